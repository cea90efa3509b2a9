"""``netbench serve RECIPE``: play the server side of a recipe (a mock server).

Binds loopback by default (``--listen 127.0.0.1:0``: a free port) and
prints ``serving NAME on HOST:PORT`` on stdout at once, so a script can
read the address. For each step it waits for what the client sends (loosely
matched), answers with the step's ``reply`` and reports mismatches on
stderr. Without ``-k`` it stops after one full run of the recipe; with
``-k`` it keeps serving new connections until Ctrl-C. Exit status 0 when
every client sent what the recipe says, 1 after a mismatch, 2 for a bad
recipe or address. Ctrl-C and SIGTERM stop it cleanly and print the
summary so far (``stopped: served 2 connections, 0 mismatches``); SIGTERM
exits 143, Ctrl-C 130 (with ``-k``, where Ctrl-C is the way to stop: 0, or
1 after a mismatch).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from netbench.environment import Environment


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Play the server side of a recipe: wait for each step's request, answer with its reply."
    )
    parser.add_argument("recipe", metavar="RECIPE", help="a *.recipe.yaml file")
    parser.add_argument(
        "-l",
        "--listen",
        default="127.0.0.1:0",
        metavar="[HOST:]PORT",
        help="address to bind (default 127.0.0.1:0, a free port on loopback)",
    )
    parser.add_argument("-k", "--keep", action="store_true", help="keep serving new connections until Ctrl-C")
    parser.add_argument(
        "--var", action="append", default=[], metavar="NAME=VALUE", help="set a variable (repeatable)"
    )
    parser.add_argument(
        "--vars-file", action="append", default=[], metavar="FILE", help="variables from YAML (--var wins)"
    )


def run(args: argparse.Namespace, env: Environment) -> int:
    """Serve until one full run (or Ctrl-C with ``-k``); return 0, or 1 after a mismatch.

    Ctrl-C and SIGTERM stop the server cleanly (connections closed, the
    summary so far on stderr); then :class:`~netbench.signals.Terminated`
    (143) or the KeyboardInterrupt (130) goes on to ``cli.main``.
    """
    import asyncio
    import contextlib
    import signal

    from netbench.recipe.load import load_recipe
    from netbench.recipe.serve import MockServer
    from netbench.recipe.template import parse_vars
    from netbench.recipe.varsfile import merge_vars
    from netbench.signals import Terminated, sigterm_as_interrupt

    recipe = load_recipe(args.recipe)
    server = MockServer(
        recipe,
        args.listen,
        keep=args.keep,
        environ=env.environ,
        variables=merge_vars(args.vars_file, parse_vars(args.var)),
        log=env.note,
    )

    terminated = False

    def on_sigterm() -> None:
        nonlocal terminated
        terminated = True
        server.stop()

    async def main() -> None:
        # SIGTERM is caught by the event loop, not raised inside whichever task runs.
        loop = asyncio.get_running_loop()
        try:
            loop.add_signal_handler(signal.SIGTERM, on_sigterm)
        except (ValueError, RuntimeError):  # not the main thread: signals are not ours
            pass
        try:
            address = await server.start()
            env.stdout.write(f"serving {recipe.name!r} ({len(recipe.steps)} steps) on {address}\n")
            env.stdout.flush()
            await server.wait()
        finally:
            await server.close()
            with contextlib.suppress(ValueError, RuntimeError):
                loop.remove_signal_handler(signal.SIGTERM)

    stopped: KeyboardInterrupt | None = None
    with sigterm_as_interrupt():  # before and after the loop runs
        try:
            asyncio.run(main())
        except KeyboardInterrupt as error:
            stopped = error
        except OSError as error:
            from netbench.errors import UsageError

            raise UsageError(f"cannot listen on {args.listen}: {error.strerror or error}") from None
    if terminated:
        stopped = Terminated()
    if stopped is not None:
        env.note(f"stopped: {server.summary()}")
    if server.mismatches:
        env.error(f"{len(server.mismatches)} mismatch(es); first: {server.mismatches[0]}")
    if stopped is not None and (isinstance(stopped, Terminated) or not args.keep):
        raise stopped
    return 1 if server.mismatches else 0
