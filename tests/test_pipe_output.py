"""The pure transforms behind the pipe (netbench/core/pipe_output.py), at every split.

Terminal escaping, ``--crlf`` and ``--hex`` see a stream in arbitrary pieces;
the result must not depend on where the pieces were cut.
"""

from __future__ import annotations

import pytest

SAMPLES = [
    b"plain\r\nline\n",
    "caf\u00e9 \u2603 \U0001f600\n".encode(),
    b"\x1b[31mred\x1b[0m\r\rbare cr\r",
    b"\xff\xfe\xc3",
    b"a\r",
    b"\n\n\r\n",
    "rlo \u202e isolate \u2066 zero \u200b bom \ufeff nel \u0085\n".encode(),  # split mid-character
]


@pytest.mark.parametrize("data", SAMPLES)
def test_stream_escaper_equals_escape_at_every_split(data: bytes) -> None:
    from netbench.core.escape import escape
    from netbench.core.pipe_output import StreamEscaper

    for cut in range(len(data) + 1):
        for second in range(cut, len(data) + 1):
            escaper = StreamEscaper()
            pieces = [data[:cut], data[cut:second], data[second:]]
            shown = "".join(escaper.feed(piece) for piece in pieces) + escaper.finish()
            assert shown == escape(data), (cut, second)
            assert not any(char in shown for char in "\x1b\u202e\u2066\u200b\ufeff\x85")


def _crlf_reference(data: bytes) -> bytes:
    out = bytearray()
    for index, byte in enumerate(data):
        if byte == 0x0A and (index == 0 or data[index - 1] != 0x0D):
            out += b"\r"
        out.append(byte)
    return bytes(out)


@pytest.mark.parametrize("data", [*SAMPLES, b"\r\n\r\n", b"\r", b"x\ny\r\nz\n\r"])
def test_crlf_translator_at_every_split(data: bytes) -> None:
    from netbench.core.pipe_output import CrlfTranslator

    for cut in range(len(data) + 1):
        translator = CrlfTranslator()
        assert translator.feed(data[:cut]) + translator.feed(data[cut:]) == _crlf_reference(data), cut


def test_hex_trace_offsets_continue_per_direction() -> None:
    from netbench.core.pipe_output import HexTrace

    trace = HexTrace()
    first = trace.dump(">", b"A" * 20)
    received = trace.dump("<", b"hi")
    second = trace.dump(">", b"B")
    assert first.splitlines()[0].startswith("> 00000000  41 41")
    assert first.splitlines()[1].startswith("> 00000010  41 41 41 41 ")
    assert received.startswith("< 00000000  68 69 ")
    assert second.startswith("> 00000014  42 ")
