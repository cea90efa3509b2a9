"""What the netcat pipe does to bytes on their way: ``--crlf``, the ``--hex`` trace, ``--telnet``.

Each maker returns a plain function (or None when there is nothing to do, so
the fast path stays a straight copy); the byte work itself is sans-IO, in
:mod:`netbench.core.pipe_output` and :mod:`netbench.core.telnet`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from netbench.net.sink import Trace


def make_source_transform(crlf: bool, trace: Trace | None) -> Callable[[bytes], bytes] | None:
    """The function applied to stdin bytes before sending (None: send them as they are)."""
    if not crlf and trace is None:
        return None
    from netbench.core.pipe_output import CrlfTranslator

    translator = CrlfTranslator() if crlf else None

    def transform(data: bytes) -> bytes:
        if translator is not None:
            data = translator.feed(data)
        if trace is not None:
            trace.sent(data)
        return data

    return transform


def make_telnet_filter(stderr: TextIO, *, verbose: bool) -> Callable[[bytes], tuple[bytes, bytes]]:
    """``connect --telnet``: a function from bytes received to (data for stdout, answer to send).

    Negotiations are answered by :class:`netbench.core.telnet.Negotiator` (as
    ``ncat -t`` does) and kept off stdout; with *verbose* each one is named on
    *stderr* (``telnet: <- IAC WILL ECHO``, ``telnet: -> IAC DO ECHO``).
    """
    from netbench.core import telnet
    from netbench.core.escape import scrub

    parser = telnet.TelnetParser()
    negotiator = telnet.Negotiator()

    def say(marker: str, event: object) -> None:
        if verbose:
            stderr.write(f"telnet: {marker} {scrub(str(event))}\n")
            stderr.flush()

    def feed(data: bytes) -> tuple[bytes, bytes]:
        out = bytearray()
        answer = bytearray()
        for event in parser.feed(data):
            if isinstance(event, telnet.Data):
                out += event.data
                continue
            say("<-", event)
            if isinstance(event, (telnet.Negotiation, telnet.Subnegotiation)):
                reply = negotiator.answer(event)
                answer += reply
                for sent in telnet.TelnetParser().feed(reply):
                    say("->", sent)
        return bytes(out), bytes(answer)

    return feed


def telnet_escape(data: bytes) -> bytes:
    """Data we send on a telnet connection: a data byte 255 goes as IAC IAC."""
    return data.replace(b"\xff", b"\xff\xff")
