"""The escaper on big hostile input: the same answers as the plain regex definition, in C-level passes.

Spelling 1 MiB of control bytes used to make a Python call per byte (seconds),
and :func:`is_text` built a list of every control character. These tests do
not time anything: they count the Python-level calls the escaper makes and
the memory :func:`is_text` allocates, and check the answers against the
straightforward definitions below.
"""

from __future__ import annotations

import random
import re
import sys
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netbench.core import escape as escape_module
from netbench.core.escape import escape, hexdump, is_text, scrub, unescape, visible

# --- the definitions (the module docstring's rules, one regex substitution) ------------------

ALWAYS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff\udc80-\udcff"
NAMED = {"\r": "\\r", "\n": "\\n", "\t": "\\t", "\\": "\\\\"}


def spell(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if char in NAMED:
        return NAMED[char]
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x80 else f"\\u{code:04x}"


def defined_escape(data: bytes, keep_newlines: bool, keep_tabs: bool) -> str:
    extra = "\\\\" + ("" if keep_tabs else "\t") + ("" if keep_newlines else "\n\r")
    pattern = f"[{ALWAYS}{extra}]" + ("|\r(?!\n)" if keep_newlines else "")
    return re.sub(pattern, spell, data.decode("utf-8", "surrogateescape"))


def defined_scrub(text: str, keep_newlines: bool) -> str:
    return re.sub(f"[{ALWAYS}{'' if keep_newlines else chr(9) + chr(10)}\r]", spell, text)


def defined_visible(data: bytes) -> str:
    return "\\n\n".join(defined_escape(line, False, False) for line in data.split(b"\n"))


def defined_is_text(data: bytes) -> bool:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    controls = len(re.findall("[\x00-\x08\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f-\x9f]", text))
    return controls * 100 <= len(text) * 30


# --- inputs -------------------------------------------------------------------------------------

PIECES = [
    b"a",
    b"\\",
    b"\r",
    b"\n",
    b"\r\n",
    b"\t",
    b"\x00",
    b"\x1b[2J",
    b"\x7f",
    b"\xc2\x85",
    b"\xc2\x9b",
    b"\xc2\xa0",
    b"\xe2\x80\xae",
    b"\xef\xbb\xbf",
    b"\xd8\xb9",
    "é".encode(),
    "Ж".encode(),
    "😀".encode(),
    b"\xff",
    b"\xc2",
    b"\xe2\x80",
]
mixed = st.lists(st.sampled_from(PIECES), max_size=60).map(b"".join)


def big_inputs() -> Iterator[tuple[str, bytes]]:
    chooser = random.Random(7)
    yield "random binary", chooser.randbytes(1 << 16)
    yield "sparse non-ASCII", "Привет, мир.\n".encode() * 2000 + b"\x1b[0m" + "ж".encode() * 5000
    yield "dense then sparse", b"\x00\xc3\xa9" * 3000 + "é".encode() * 20000 + b"\r"
    yield "sparse then dense", "é".encode() * 5000 + b"\x00\xc3\xa9" * 3000
    yield "ASCII lines", b"GET / HTTP/1.1\r\nHost: x\\n\r\n" * 3000 + b"\rover"
    yield "pieces", b"".join(chooser.choice(PIECES) for _ in range(20000))


@given(mixed, st.booleans(), st.booleans())
def test_escape_is_the_defined_substitution(data: bytes, keep_newlines: bool, keep_tabs: bool) -> None:
    got = escape(data, keep_newlines=keep_newlines, keep_tabs=keep_tabs)
    assert got == defined_escape(data, keep_newlines, keep_tabs)


@given(mixed, st.booleans())
def test_scrub_visible_and_is_text_are_the_definitions(data: bytes, keep_newlines: bool) -> None:
    text = data.decode("utf-8", "surrogateescape")
    assert scrub(text, keep_newlines=keep_newlines) == defined_scrub(text, keep_newlines)
    assert visible(data) == defined_visible(data)
    assert is_text(data) == defined_is_text(data)


@pytest.mark.parametrize("name, data", list(big_inputs()), ids=[name for name, _ in big_inputs()])
def test_big_inputs_give_the_defined_answers_whichever_way_they_are_spelled(name: str, data: bytes) -> None:
    for keep_newlines in (True, False):
        for keep_tabs in (True, False):
            got = escape(data, keep_newlines=keep_newlines, keep_tabs=keep_tabs)
            assert got == defined_escape(data, keep_newlines, keep_tabs), (keep_newlines, keep_tabs)
        text = data.decode("utf-8", "surrogateescape")
        assert scrub(text, keep_newlines=keep_newlines) == defined_scrub(text, keep_newlines)
    assert visible(data) == defined_visible(data)
    assert is_text(data) == defined_is_text(data)
    assert unescape(escape(data)) == data


# --- bounded work ----------------------------------------------------------------------------------


class TooManyCalls(Exception):
    pass


@contextmanager
def python_calls_in_escape(budget: int) -> Iterator[list[int]]:
    """Count calls of Python functions defined in the escape module; raise past *budget*."""
    calls = [0]
    source = escape_module.__file__

    def hook(frame: FrameType, event: str, arg: object) -> None:
        if event == "call" and frame.f_code.co_filename == source:
            calls[0] += 1
            if calls[0] > budget:
                raise TooManyCalls(f"{calls[0]} Python calls: a call per character?")

    sys.setprofile(hook)
    try:
        yield calls
    finally:
        sys.setprofile(None)


MIB = 1 << 20
HOSTILE = {
    "all C0 controls": bytes(range(32)) * (MIB // 32),
    "NUL": b"\x00" * MIB,
    "invalid UTF-8": b"\xff\xfe" * (MIB // 2),
    "C1 controls": b"\xc2\x9b" * (MIB // 2),
    "random binary": random.Random(3).randbytes(MIB),
}
SPELLERS: dict[str, Callable[[bytes], object]] = {
    "escape": escape,
    "escape one line": lambda data: escape(data, keep_newlines=False, keep_tabs=False),
    "scrub": lambda data: scrub(data.decode("utf-8", "surrogateescape")),
    "scrub keeping newlines": lambda data: scrub(data.decode("utf-8", "surrogateescape"), keep_newlines=True),
    "visible": visible,
    "is_text": is_text,
}


@pytest.mark.parametrize("speller", list(SPELLERS))
@pytest.mark.parametrize("kind", list(HOSTILE))
def test_a_mib_of_hostile_bytes_costs_a_few_python_calls_not_one_per_byte(kind: str, speller: str) -> None:
    escape(b"\x00\r\n")  # the tables are built on first use: not counted
    visible(b"\x00")
    data = HOSTILE[kind]
    with python_calls_in_escape(budget=50):
        SPELLERS[speller](data)


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_is_text_allocates_in_proportion_to_its_input_not_an_object_per_control(kind: str) -> None:
    data = HOSTILE[kind]
    tracemalloc.start()
    try:
        is_text(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak <= 3 * len(data) + 4096


def defined_hexdump(data: bytes, offset: int, width: int, mark: int | None) -> str:
    lines = []
    for start in range(0, len(data), width):
        chunk = data[start : start + width]
        cells = []
        for index, byte in enumerate(chunk):
            cells.append(f"{'>' if start + index == mark else ' '}{byte:02x}")
            if index == 7:
                cells.append(" ")
        text = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in chunk)
        lines.append(f"{offset + start:08x} {''.join(cells):<{width * 3 + 1}}  |{text}|")
    return "\n".join(lines)


@given(
    st.binary(max_size=200),
    st.integers(min_value=0, max_value=2**32),
    st.integers(min_value=1, max_value=33),
    st.none() | st.integers(min_value=0, max_value=210),
)
def test_hexdump_is_the_defined_layout(data: bytes, offset: int, width: int, mark: int | None) -> None:
    assert hexdump(data, offset=offset, width=width, mark=mark) == defined_hexdump(data, offset, width, mark)


EVERY_CODE_POINT = "".join(map(chr, range(sys.maxunicode + 1)))


@pytest.mark.parametrize(
    "extra", sorted({*escape_module._ESCAPE_EXTRA.values(), *escape_module._SCRUB_EXTRA.values(), "\r"})
)
def test_the_translate_table_holds_exactly_what_the_pattern_matches(extra: str) -> None:
    # The table is built from the class bodies without asking the regex (start-up: ~6 ms less on
    # first use); over every code point it must name exactly the characters the regex matches.
    table = escape_module._table(extra)
    matched = {ord(char) for char in escape_module._pattern(extra).findall(EVERY_CODE_POINT)}
    assert set(table) == matched
    assert all(value == escape_module._spelling(chr(code)) for code, value in table.items())
