"""The table of subcommands.

Each entry names a module in this package that defines::

    def add_arguments(parser: argparse.ArgumentParser) -> None
    def run(args: argparse.Namespace, env: Environment) -> ExitStatus

A command module imports only ``argparse`` and light modules at import time;
everything heavy is imported inside ``run`` so start-up stays fast.
"""

from __future__ import annotations

COMMANDS: dict[str, tuple[str, str]] = {
    "repl": ("netbench.commands.repl", "interactive session (the default with no command)"),
    "connect": ("netbench.commands.connect", "netcat-style pipe: stdin -> socket -> stdout"),
    "listen": ("netbench.commands.listen", "accept a connection, then pipe (netcat -l)"),
    "http": ("netbench.commands.http", "one HTTP/1.1 exchange, response parsed out"),
    "replay": ("netbench.commands.replay", "run recipes and check the answers"),
    "serve": ("netbench.commands.serve", "play the server side of a recipe (mock server)"),
    "import": ("netbench.commands.import_curl", "turn a pasted curl command into a recipe"),
    "scan": ("netbench.commands.scan", "TCP connect scan of a host"),
    "ports": ("netbench.commands.ports", "local sockets with state, pid, program, user"),
    "services": ("netbench.commands.services", "look up /etc/services, both directions"),
    "lab": ("netbench.commands.lab", "start embedded demo servers on loopback"),
}
