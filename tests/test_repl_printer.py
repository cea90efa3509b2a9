"""The REPL's printer above a running prompt, in a real pty that answers cursor-position requests.

Two defects behind the hang after a chargen flood (issue 12, item 1), each
shown with a tiny prompt_toolkit program that uses the REPL's printer:

- a print cancelled while it waited for the one before it left the
  application unable to exit (Ctrl-D ignored for ever);
- while prints went on, the terminal spent most of its time in cooked mode,
  so Ctrl-C became a SIGINT echoed as ``^C`` and a Ctrl-D could be eaten.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.test_repl_pty import CPR, TIMEOUT

pexpect = pytest.importorskip("pexpect")

PROGRAM = r"""
import asyncio, sys
from prompt_toolkit import PromptSession
from prompt_toolkit.key_binding import KeyBindings
from netbench.repl.printer import TerminalPrinter, steady_input

async def main():
    printer = TerminalPrinter({})
    keys = KeyBindings()
    seen = []

    @keys.add("c-c")
    def _(event):
        seen.append(1)
        printer.show([("", f"KEY-CTRL-C {len(seen)}\n")])

    session = PromptSession(input=steady_input(), key_bindings=keys)

    async def flood():
        for index in range(int(sys.argv[1])):
            printer.show([("", f"line {index} " + "x" * 60 + "\n")] * int(sys.argv[3]))
            waiter = asyncio.ensure_future(printer.drain())
            await asyncio.sleep(0.002)
            if sys.argv[2] == "cancel":
                waiter.cancel()  # as /close cancels a receive task waiting on its print
        printer.show([("", "FLOOD-DONE\n")])

    asyncio.get_running_loop().call_later(0.3, lambda: asyncio.ensure_future(flood()))
    try:
        await session.prompt_async("p> ")
    except EOFError:
        print("LEFT")

asyncio.run(main())
"""


def spawn(*args: str) -> pexpect.spawn:
    env = dict(os.environ, TERM="xterm")
    return pexpect.spawn(
        sys.executable,
        ["-c", PROGRAM, *args],
        env=env,
        dimensions=(30, 100),
        timeout=TIMEOUT,
        cwd=str(Path(__file__).resolve().parent.parent),
    )


def expect(child: pexpect.spawn, text: bytes) -> bytes:
    """Wait for *text*, answering cursor-position requests like a terminal; return all seen."""
    seen = bytearray()
    while True:
        index = child.expect([CPR, text])
        seen += child.before + (child.after if isinstance(child.after, bytes) else b"")
        if index == 0:
            child.send("\x1b[1;1R")
            continue
        return bytes(seen)


def test_ctrl_d_leaves_after_prints_whose_waiters_were_cancelled() -> None:
    child = spawn("300", "cancel", "1")
    try:
        expect(child, b"FLOOD-DONE")
        child.send("\x04")
        expect(child, b"LEFT")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)


def test_keys_pressed_during_a_stream_of_prints_stay_keys() -> None:
    child = spawn("1500", "wait", "20")
    try:
        seen = expect(child, b"line 100")
        for _ in range(5):
            child.send("\x03")
            seen += expect(child, b"line ")
        seen += expect(child, b"KEY-CTRL-C 5")
        seen += expect(child, b"FLOOD-DONE")
        child.send("\x04")
        seen += expect(child, b"LEFT")
    finally:
        child.close(force=True)
    assert b"^C" not in seen  # no Ctrl-C went to the terminal's line discipline
