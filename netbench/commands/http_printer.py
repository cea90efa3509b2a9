"""Where each part of an ``http`` exchange goes: the parsed view on a terminal; the body
to stdout and the head to stderr otherwise (as HTTPie does), with ``-v`` request lines."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from netbench.core.http import HttpResponse
    from netbench.environment import Environment
    from netbench.net.http_client import Exchange
    from netbench.net.http_pipeline import Planned

VIEW_LIMIT = 1 << 20  # body bytes kept for the terminal view; the rest is read and counted


class HttpPrinter:
    """Where each part of an exchange goes, for a terminal or a pipe."""

    def __init__(self, env: Environment, raw: bool, *, follow: bool) -> None:
        from netbench.core.render import render_head
        from netbench.net.redirect import location_of

        self._render_head = render_head  # bound once: on_head runs for every response
        self._location_of = location_of
        self._flush_stdout = env.stdout.flush
        self._write_stderr = env.stderr.write
        self.env = env
        self.raw = raw
        self.tty = bool(env.stdout_isatty)
        self.err_color = env.err_color
        self.out = None if self.tty else env.stdout_bytes
        self.follow = follow
        self.sink = self.keep_for_view if self.tty else self.write_body
        self.discard = False
        self.kept: list[bytes] = []
        self.kept_size = 0
        # The last head shown on stderr and its text: a keep-alive run's heads often repeat.
        self._last_head: tuple[object, ...] = ()
        self._last_text = ""

    def keep_for_view(self, data: bytes) -> None:
        """The sink for a body shown on a terminal: keep the first VIEW_LIMIT bytes only."""
        room = VIEW_LIMIT - self.kept_size
        if room > 0:
            piece = data[:room]
            self.kept.append(piece)
            self.kept_size += len(piece)

    def write_body(self, data: bytes) -> None:
        """The sink for a body when stdout is not a terminal (a followed redirect's is dropped)."""
        if not self.discard and self.out is not None:
            self.out.write(data)

    def on_head(self, head: HttpResponse) -> None:
        """A response head arrived: on stderr when stdout is not a terminal, after the bodies so far."""
        self.discard = self.follow and self._location_of(head) is not None
        if not self.tty:
            self._flush_stdout()  # the bodies before this head, for `> out 2>&1`
            key = (head.status, head.reason, head.headers, head.informational, head.http_version)
            if key != self._last_head:  # what render_head reads of the head, nothing else
                self._last_head, self._last_text = key, self._render_head(head, color=self.err_color) + "\n\n"
            self._write_stderr(self._last_text)
        self.kept, self.kept_size = [], 0

    def show(self, exchange: Exchange, notes: list[str]) -> None:
        env = self.env
        if not self.tty and not notes and not self.raw:
            return  # the body went to stdout and the head to stderr as they came
        if self.tty:
            from netbench.core.render import render_response

            response = exchange.response.replace(body=b"".join(self.kept), streamed=False)
            if response.body_size > self.kept_size:
                notes = [
                    *notes,
                    f"showing the first {self.kept_size} of {response.body_size} body bytes "
                    "(redirect stdout to get them all)",
                ]
            env.stdout.write(
                render_response(
                    response,
                    color=env.color,
                    show_raw=self.raw,
                    timings=exchange.timings,
                    sent=exchange.request,
                    notes=notes,
                )
            )
            env.stdout.flush()
            return
        for note in notes:
            env.stderr.write(note + "\n")
        if self.raw:
            from netbench.core.render import render_raw

            env.stderr.write(render_raw(exchange.request, exchange.response.raw, color=self.err_color) + "\n")

    def sent(self, request: Planned, unanswered: int) -> None:
        """``-v``: a pipelined request left, with how many are now unanswered."""
        self.sent_line(request.method, request.url, f"  ({unanswered} unanswered)")

    def sent_line(self, method: str, url: str, extra: str = "") -> None:
        """``-v``: ``> GET http://...`` on stderr as a request leaves."""
        from netbench.core.escape import escape_text

        self.env.stdout.flush()
        self.env.stderr.write(f"> {escape_text(method)} {escape_text(url)}{extra}\n")
        self.env.stderr.flush()

    def warn(self, text: str) -> None:
        """One line on stderr, after what was shown so far."""
        self.env.stdout.flush()
        self.env.stderr.write(f"netbench: {text}\n")
        self.env.stderr.flush()

    def finish(self) -> None:
        """Flush the body stream."""
        if self.out is not None:
            self.out.flush()

    def show_partial(self, sent: bytes, partial: bytes) -> None:
        from netbench.core.render import render_raw

        stream = self.env.stdout if self.tty else self.env.stderr
        stream.write(render_raw(sent, partial) + "\n")
        stream.flush()
