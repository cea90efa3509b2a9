"""Printed curl commands hand bash the same bytes the recipe holds (issue 9 item 4, one escaper).

The quoting asks netbench.core.escape which characters are unsafe, and spells
them inside ``$'...'`` as their UTF-8 bytes, so bash gives back the same text
in a UTF-8 locale and under LC_ALL=C alike (``$'\\u0085'`` would not: bash
leaves it as six characters when the locale is not UTF-8). Checked by running
the printed words through ``bash -c 'printf %s ...'`` and comparing bytes.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from netbench.core.escape import is_unsafe
from netbench.recipe.curl import from_curl, to_curl, variables_expander
from netbench.recipe.model import HttpRequest, Recipe, Step
from netbench.recipe.shellwords import quote, split_shell
from tests.support.peers import require_binary

LOCALES = ["C.UTF-8", "C"]
TEXTS = [
    "next\u0085line",  # NEL: a C1 control, two bytes in UTF-8
    "a\x1b[31mred",
    "tab\there\nnew\rline",
    "bidi \u202eevil\u202c and \u061c",  # U+061C, which the old private set missed
    "zero\u200bwidth \ufeff",
    "it's a \\ back",
    "caf\u00e9 stays as it is",
    "raw \udc85\udcff bytes",  # bytes that were not UTF-8 (surrogate escapes)
]


def _bash_words(words: str, locale: str) -> list[bytes]:
    """What bash hands a program for the shell *words*, one argument each, as bytes."""
    bash = require_binary("bash")
    env = {**os.environ, "LC_ALL": locale}
    shown = subprocess.run([bash, "-c", "printf '%s\\0' " + words], capture_output=True, timeout=20, env=env)
    assert shown.returncode == 0, shown.stderr
    return shown.stdout.split(b"\0")[:-1]


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("text", TEXTS)
def test_bash_reads_a_quoted_word_back_as_the_same_bytes(text: str, locale: str) -> None:
    word = quote(text)
    assert not any(is_unsafe(char) for char in word)  # nothing a terminal acts on is printed
    assert word.isascii() or "caf" in word
    assert _bash_words(word, locale) == [_bytes(text)]
    assert split_shell(word) == [text]  # our own reading agrees with bash's


def test_nel_is_spelt_as_its_utf8_bytes_not_as_the_byte_0x85() -> None:
    assert quote("a\u0085b") == "$'a\\xc2\\x85b'"
    assert quote("a\udc85b") == "$'a\\x85b'"  # the byte 0x85 itself, when that is what was there
    assert split_shell("$'\\xc2\\x85' $'\\x85' $'\\u0085' $'\\302\\205'") == [
        "\u0085",
        "\udc85",
        "\u0085",
        "\u0085",
    ]


@pytest.mark.parametrize("locale", LOCALES)
def test_a_printed_curl_command_gives_curl_the_recipes_bytes(locale: str) -> None:
    header = "X-Note: next\u0085line \u202e\x1b[2J"
    body = b"\xc2\x85 and \x85 alone \x7f\x1b[31m"  # (no NUL: no shell argument can hold one)
    request = HttpRequest("POST", "/p?q=\u0085", (tuple(header.split(": ", 1)),), body)  # type: ignore[arg-type]
    recipe = Recipe(name="r", steps=(Step(http=request),), target="tcp://127.0.0.1:9")
    command = to_curl(recipe.steps[0], recipe, "tcp://127.0.0.1:9", variables_expander({}))
    assert not any(is_unsafe(char) for char in command)
    words = _bash_words(command.removeprefix("curl "), locale)
    assert words[words.index(b"--data-binary") + 1] == body
    assert _bytes(header) in words
    assert words[-1] == "http://127.0.0.1:9/p?q=\u0085".encode()
    assert from_curl(command, lambda name: b"").recipe.steps[0].http == request  # and back
