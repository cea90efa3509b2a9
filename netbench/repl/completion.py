"""Tab completion: commands, their options, session numbers, HTTP methods, header names."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document

from netbench.repl.commands import TABLE
from netbench.repl.context import Repl

METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT")
HEADERS = (
    "Accept",
    "Accept-Encoding",
    "Accept-Language",
    "Authorization",
    "Cache-Control",
    "Connection",
    "Content-Length",
    "Content-Type",
    "Cookie",
    "Expect",
    "Host",
    "If-Match",
    "If-Modified-Since",
    "If-None-Match",
    "Origin",
    "Range",
    "Referer",
    "Transfer-Encoding",
    "Upgrade",
    "User-Agent",
)


def _matching(
    word: str, choices: Iterable[str], *, suffix: str = "", fold: bool = True
) -> Iterator[Completion]:
    low = word.lower()
    for choice in choices:
        if (choice.lower() if fold else choice).startswith(low if fold else word) and choice != word:
            yield Completion(choice + suffix, start_position=-len(word))


class ReplCompleter(Completer):
    """Completes what the REPL understands, from the line typed so far."""

    def __init__(self, repl: Repl) -> None:
        self.repl = repl

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterator[Completion]:
        text = document.text_before_cursor
        if text.startswith("/") and not text.startswith("//"):
            yield from self._command(text)
            return
        yield from self._plain(text)

    def _command(self, text: str) -> Iterator[Completion]:
        if " " not in text:
            word = text[1:]
            for name in sorted(TABLE):
                if name.startswith(word):
                    yield Completion(
                        "/" + name, start_position=-len(text), display_meta=TABLE[name].summary[:40]
                    )
            return
        name, _, rest = text[1:].partition(" ")
        command = TABLE.get(name)
        if command is None:
            return
        words = rest.split(" ")
        word = words[-1]
        position = len(words) - 1  # index of the word being typed
        if name == "help":
            yield from _matching(word.lstrip("/"), sorted(TABLE))
        elif name == "lab" and position == 0:
            from netbench.lab.catalog import SERVICES

            yield from _matching(word, SERVICES)
        elif name == "http" and position == 0:
            yield from _matching(word, METHODS, suffix=" ")
        elif name in ("get", "http") and position >= (2 if name == "http" else 1):
            yield from _matching(word, HEADERS, suffix=": ")
        elif "<session>" in command.options or name == "use":
            yield from _matching(word, [str(n) for n in self.repl.sessions.items])
        else:
            yield from _matching(word, [o for o in command.options if not o.startswith("<")])

    def _plain(self, text: str) -> Iterator[Completion]:
        words = text.split(" ")
        if len(words) == 1:
            word = words[0]
            if not word:
                return
            yield from _matching(word, METHODS, suffix=" ")
            yield from _matching(word, HEADERS, suffix=": ")
        elif len(words) == 3 and words[0].upper() in METHODS:
            yield from _matching(words[2], ("HTTP/1.1", "HTTP/1.0"), fold=False)
