"""SMTP/FTP reply parsing as an attacker feeds it: endless lines, multi-line replies that never end.

The caps are checked by what the parser holds and when it gives up, never by time.
"""

from __future__ import annotations

import pytest

from netbench.core import reply_code
from netbench.core.reply_code import Reply, ReplyParser
from netbench.errors import ProtocolError


def test_a_10_mib_line_without_crlf_is_refused_once_it_passes_the_line_cap() -> None:
    parser = ReplyParser()
    parser.feed(b"250 ")
    fed = 4
    with pytest.raises(ProtocolError, match="longer than"):
        for _ in range(10 * 16):  # 10 MiB in 64 KiB pieces
            parser.feed(b"x" * 65536)
            fed += 65536
            assert parser.next_reply() is None
            assert parser.pending <= reply_code.MAX_LINE
    assert fed <= reply_code.MAX_LINE + 65536  # refused with the piece that passed the cap


def test_a_long_line_in_1_byte_pieces_is_whole_once_its_end_arrives() -> None:
    parser = ReplyParser()
    line = b"250 " + b"x" * 20000
    for byte in line:
        parser.feed(bytes([byte]))
        assert parser.next_reply() is None
    parser.feed(b"\r")
    assert parser.next_reply() is None  # a CR alone is not the end yet
    parser.feed(b"\n")
    assert parser.next_reply() == Reply(250, ("x" * 20000,))
    assert parser.pending == 0 and not parser.partial


def test_a_multiline_reply_that_never_ends_is_refused_at_the_byte_cap() -> None:
    parser = ReplyParser()
    line = b"250-" + b"x" * 60000 + b"\r\n"
    fed = 0
    with pytest.raises(ProtocolError, match=f"longer than {reply_code.MAX_REPLY} bytes"):
        while fed < reply_code.MAX_LINES * len(line):
            parser.feed(line)
            fed += len(line)
            assert parser.next_reply() is None
    assert fed <= reply_code.MAX_REPLY + len(line)  # refused at the cap, not at 1000 lines


def test_a_multiline_reply_that_never_ends_with_short_lines_is_refused_at_the_line_cap() -> None:
    parser = ReplyParser()
    with pytest.raises(ProtocolError, match=f"more than {reply_code.MAX_LINES} lines"):
        for _ in range(reply_code.MAX_LINES + 1):
            parser.feed(b"250-x\r\n")
            assert parser.next_reply() is None


def test_the_byte_cap_is_per_reply() -> None:
    parser = ReplyParser()
    line = b"250 " + b"x" * 60000 + b"\r\n"
    for _ in range(3 * reply_code.MAX_REPLY // len(line)):  # many big replies, each under the cap
        parser.feed(line)
        assert parser.next_reply() == Reply(250, ("x" * 60000,))


def test_the_caps_are_documented() -> None:
    doc = ReplyParser.__doc__ or ""
    for cap in ("MAX_LINE", "MAX_LINES", "MAX_REPLY"):
        assert f":data:`{cap}`" in doc
