"""A corpus of misbehaving HTTP servers on loopback, for the client's hostile tests."""
