"""The display gate and /tail's line picking (sans-IO; issue 12, item 1)."""

from __future__ import annotations

from netbench.repl.flood import DisplayGate, tail
from netbench.repl.httpview import HttpTracker, Note

LINE = b"x" * 70 + b"\r\n"  # 72 bytes


def test_a_slow_peer_is_shown_whole() -> None:
    gate = DisplayGate()
    for second in range(5):
        shown, before = gate.arrive(LINE * 50, float(second))
        assert shown == LINE * 50 and before is None
    assert gate.status() is None


def test_past_the_allowance_the_rest_is_counted_from_a_line_end_then_the_flood_ends_once() -> None:
    gate = DisplayGate()
    shown, _ = gate.arrive(LINE * 1000, 0.0)
    assert shown == LINE * 100  # the first 100 lines (7,200 bytes, under 16 KiB), cut after a line end
    assert gate.flooding and gate.hidden_lines == 900 and gate.hidden_bytes == 900 * 72
    assert gate.status() is not None and "900 lines" in gate.status()  # type: ignore[operator]
    shown, _ = gate.arrive(LINE * 1000, 0.5)
    assert shown == b""
    assert gate.quiet(1.0) is None  # data came 0.5 s ago: not over yet
    final = gate.quiet(1.6)
    assert final is not None and final.startswith("… 1,900 lines, 133.6 KiB not shown")
    assert gate.status() is None and gate.quiet(5.0) is None  # printed once
    shown, before = gate.arrive(LINE, 9.0)
    assert shown == LINE and before is None


def test_a_flood_that_slows_down_ends_at_the_next_calm_second() -> None:
    gate = DisplayGate()
    gate.arrive(b"y" * 100_000, 0.0)  # no line end in reach: cut at the byte allowance
    assert gate.hidden_bytes == 100_000 - 16 * 1024
    shown, before = gate.arrive(LINE, 1.2)  # the window that ended held too much: still flooding
    assert shown == b"" and before is None
    shown, before = gate.arrive(LINE, 2.3)  # the last window was calm
    assert before is not None and "not shown" in before and shown == LINE


def test_pause_counts_everything_and_a_send_resumes_with_the_count() -> None:
    gate = DisplayGate()
    gate.arrive(LINE, 0.0)
    assert gate.active(0.5)
    gate.pause()
    assert not gate.active(0.5)
    shown, _ = gate.arrive(LINE * 3, 0.6)
    assert shown == b""
    assert "display paused: 3 lines" in (gate.status() or "")
    assert gate.resume() == "… 3 lines, 216 B not shown: /tail or /save to see them"
    assert gate.resume() is None


def test_tail_walks_back_only_as_far_as_needed() -> None:
    pieces = [b"7\n8\n9", b"4\n5\n6\n", b"1\n2\n3\n"]  # newest first; the last line has no ending
    assert tail(iter(pieces), 2) == b"8\n9"
    assert tail(iter(pieces), 4) == b"6\n7\n8\n9"
    assert tail(iter(pieces), 100) == b"1\n2\n3\n4\n5\n6\n7\n8\n9"
    assert tail(iter([]), 5) == b""


def test_a_parser_message_is_escaped_once_in_the_note() -> None:
    tracker = HttpTracker()
    tracker.on_sent(b"GET / HTTP/1.1\r\n\r\n")
    shown = tracker.on_received(b"got it\r\n")
    notes = [item.text for item in shown if isinstance(item, Note)]
    assert notes and "\\\\" not in notes[0]


def test_binary_shown_as_a_hexdump_counts_16_bytes_a_line() -> None:
    gate = DisplayGate()
    shown, _ = gate.arrive(bytes(range(256)) * 100, 0.0, hexdump=True)
    assert len(shown) == 100 * 16  # 100 hexdump lines, not 16 KiB (1,024 lines)
    assert gate.flooding and gate.hidden_lines == (25600 - 1600) // 16
