"""``netbench serve RECIPE``: play the server side of a recipe (a mock server).

Binds loopback by default (``--listen 127.0.0.1:0``: a free port) and
prints ``serving NAME on HOST:PORT`` on stdout at once, so a script can
read the address. For each step it waits for what the client sends (loosely
matched), answers with the step's ``reply`` and reports mismatches on
stderr. Without ``-k`` it stops after one full run of the recipe; with
``-k`` it keeps serving new connections until Ctrl-C. Exit status 0 when
every client sent what the recipe says, 1 after a mismatch, 2 for a bad
recipe or address.
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
    parser.add_argument(
        "-k", "--keep", action="store_true", help="keep serving new connections until Ctrl-C"
    )
    parser.add_argument(
        "--var", action="append", default=[], metavar="NAME=VALUE", help="set a variable (repeatable)"
    )


def run(args: argparse.Namespace, env: Environment) -> int:
    import asyncio

    from netbench.recipe.load import load_recipe
    from netbench.recipe.serve import MockServer
    from netbench.recipe.template import parse_vars

    recipe = load_recipe(args.recipe)
    server = MockServer(
        recipe,
        args.listen,
        keep=args.keep,
        environ=env.environ,
        variables=parse_vars(args.var),
        log=env.note,
    )

    async def main() -> None:
        address = await server.start()
        env.stdout.write(f"serving {recipe.name!r} ({len(recipe.steps)} steps) on {address}\n")
        env.stdout.flush()
        try:
            await server.wait()
        finally:
            await server.close()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        if not args.keep:
            raise
    except OSError as error:
        from netbench.errors import UsageError

        raise UsageError(f"cannot listen on {args.listen}: {error.strerror or error}") from None
    if server.mismatches:
        env.error(f"{len(server.mismatches)} mismatch(es); first: {server.mismatches[0]}")
        return 1
    return 0
