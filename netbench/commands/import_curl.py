"""``netbench import curl 'curl ...'``: a pasted curl command becomes a recipe.

The recipe (one ``http`` step, its target from the URL) goes to stdout, or
to ``-o FILE`` (by :func:`netbench.files.write_file`). Credentials in the command are written
as ``${secret:NAME}``; a line on stderr names the ``NETBENCH_SECRET_...``
variables replay will need. An option netbench cannot translate is named in
one line, exit status 2. The translation itself is
:mod:`netbench.recipe.curl`.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from netbench.status import ExitStatus

MAX_BODY = 16 * 1024 * 1024

if TYPE_CHECKING:
    from netbench.environment import Environment


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = "Turn a pasted curl command into a recipe (one http step)."
    parser.epilog = (
        'example: netbench import curl \'curl -sS -H "Accept: application/json" '
        "https://example.com/api/items' -o items.recipe.yaml"
    )
    parser.add_argument("kind", choices=("curl",), help="what to import (curl)")
    parser.add_argument("-o", "--output", metavar="FILE", help="write the recipe to FILE instead of stdout")
    parser.add_argument("--name", help="the recipe's name (default: METHOD PATH)")
    parser.add_argument(
        "command",
        nargs=argparse.REMAINDER,
        metavar="'curl ...'",
        help="the curl command, quoted as one argument (or its words after the kind)",
    )


def run(args: argparse.Namespace, env: Environment) -> ExitStatus:
    from pathlib import Path

    from netbench.errors import UsageError
    from netbench.recipe.curl import from_curl
    from netbench.recipe.dump import dumps, save

    words: list[str] = list(args.command)
    while len(words) >= 3 and " " in words[0] and words[-2] in ("-o", "--output", "--name"):
        setattr(args, "name" if words[-2] == "--name" else "output", words[-1])  # after the quoted command
        words = words[:-2]
    if not words:
        raise UsageError("import curl: paste the curl command in quotes: netbench import curl 'curl ...'")

    def read_file(name: str) -> bytes:  # at most MAX_BODY: -d @/dev/zero must not eat the memory
        if name == "-":
            data = env.stdin_bytes.read(MAX_BODY + 1)
        else:
            with Path(name).open("rb") as stream:
                data = stream.read(MAX_BODY + 1)
        if len(data) > MAX_BODY:
            raise UsageError(
                f"{name}: a body of more than {MAX_BODY // (1024 * 1024)} MiB cannot go in a recipe"
            )
        return data

    imported = from_curl(words[0] if len(words) == 1 else words, read_file, name=args.name)
    text = dumps(imported.recipe)
    for note in imported.notes:
        env.note(note)
    if imported.secrets:
        names = ", ".join(f"NETBENCH_SECRET_{name}" for name in imported.secrets)
        env.note(f"credentials were not written; set {names} to replay")
    if args.output:
        try:
            save(imported.recipe, args.output)
        except OSError as error:
            raise UsageError(f"cannot write {args.output}: {error.strerror or error}") from None
        env.note(f"wrote {args.output}")
    else:
        env.stdout.write(text)
    return ExitStatus.OK


def print_curl(
    paths: list[str], target: str | None, variables: dict[str, str], env: Environment
) -> ExitStatus:
    """``replay --curl``: each recipe's http steps as curl command lines on stdout, nothing run."""
    from netbench.recipe.curl import recipe_as_curl
    from netbench.recipe.load import load_recipe

    for path in paths:
        for line in recipe_as_curl(load_recipe(path), target, variables):
            env.stdout.write(line + "\n")
    env.stdout.flush()
    return ExitStatus.OK
