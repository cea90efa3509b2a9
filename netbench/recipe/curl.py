"""curl command lines to recipes and back (pure: files are read through a callable).

:func:`from_curl` turns a pasted ``curl ...`` command into a one-step recipe
(its target from the URL); :func:`to_curl` writes an ``http`` step as a curl
command line. A round trip (recipe -> curl -> recipe) gives the same
request: method, request target, headers and body.

Understood: ``-X``, ``-H`` (``-H 'Name:'`` removes a header, as in curl),
``-d/--data/--data-ascii/--data-raw/--data-binary/--data-urlencode``-less
forms (``@file`` except for ``--data-raw``; ``-d @file`` drops CR and LF as
curl does), ``--json``, ``-u``, ``-b`` (``name=value`` pairs), ``-A``,
``-e``, ``-L``, ``-k``, ``--compressed``, ``-I``, the URL with its query.
``-s -S -v -i -f/--fail`` (and their long names) change only curl's own
output and are accepted and ignored. Anything else is a
:class:`~netbench.errors.UsageError` naming the option.

Shell variables left in a pasted command (``"Bearer $TOKEN"``, which the
shell would have expanded) become ``${env:TOKEN}``; ``$NETBENCH_SECRET_X``
becomes ``${secret:X}``, which is how :func:`to_curl` writes secrets, so
they never appear in the clear. Literal credentials (Authorization, Cookie,
API-key headers, password/token fields) are replaced by ``${secret:NAME}``
as a recording does; :attr:`Imported.secrets` names them.
"""

from __future__ import annotations

import base64
import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from netbench.errors import UsageError
from netbench.recipe.model import HttpRequest, Recipe, Step, TlsSpec
from netbench.recipe.redact import Secrets
from netbench.recipe.shellwords import quote, split_shell
from netbench.recipe.template import escape_template

IGNORED = {"-s", "--silent", "-S", "--show-error", "-v", "--verbose", "-i", "--include", "-f", "--fail"}
FLAGS = {"-L", "--location", "-k", "--insecure", "--compressed", "-I", "--head", *IGNORED}
WITH_VALUE = {
    "-X": "request", "--request": "request",
    "-H": "header", "--header": "header",
    "-d": "data", "--data": "data", "--data-ascii": "data",
    "--data-raw": "raw", "--data-binary": "binary", "--json": "json",
    "-u": "user", "--user": "user",
    "-b": "cookie", "--cookie": "cookie",
    "-A": "agent", "--user-agent": "agent",
    "-e": "referer", "--referer": "referer",
    "--url": "url",
}  # fmt: skip
SHORT_WITH_VALUE = {"X", "H", "d", "u", "b", "A", "e"}
SHORT_FLAGS = {"L", "k", "I", "s", "S", "v", "i", "f"}
_SHELL_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")
_PLACEHOLDER = re.compile(r"\$\$\{|\$\{([^}]*)\}")

ReadFile = Callable[[str], bytes]


@dataclass(frozen=True)
class Imported:
    """A recipe made from a curl command, the secrets it names, and notes for the user."""

    recipe: Recipe
    secrets: tuple[str, ...]
    notes: tuple[str, ...]


def _words(command: str | list[str]) -> list[str]:
    if isinstance(command, list):
        words = list(command)
    else:
        text = re.sub(r"\\\r?\n", " ", command)  # a command pasted over several lines
        words = split_shell(text)
    if words and (words[0] in ("curl", "curl.exe") or words[0].endswith("/curl")):
        words = words[1:]
    if not words:
        raise UsageError("no curl command to import (paste it in quotes: netbench import curl 'curl ...')")
    return words


def _options(words: list[str]) -> list[tuple[str, str]]:
    """``(kind, value)`` in order: kinds from :data:`WITH_VALUE`, flags as themselves, ``url``."""
    out: list[tuple[str, str]] = []
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if word in WITH_VALUE:
            if index >= len(words):
                raise UsageError(f"curl option {word} needs a value")
            out.append((WITH_VALUE[word], words[index]))
            index += 1
        elif word in FLAGS:
            out.append((word, ""))
        elif word.startswith("--"):
            raise UsageError(f"curl option {word} is not supported by netbench import (see docs/recipes.md)")
        elif word.startswith("-") and len(word) > 1:
            for position, letter in enumerate(word[1:], 1):
                if letter in SHORT_FLAGS:
                    out.append((f"-{letter}", ""))
                elif letter in SHORT_WITH_VALUE:
                    rest = word[position + 1 :]
                    if not rest:
                        if index >= len(words):
                            raise UsageError(f"curl option -{letter} needs a value")
                        rest = words[index]
                        index += 1
                    out.append((WITH_VALUE[f"-{letter}"], rest))
                    break
                else:
                    raise UsageError(f"curl option -{letter} is not supported by netbench import")
        else:
            out.append(("url", word))
    return out


def _data(kind: str, value: str, read_file: ReadFile) -> bytes:
    if kind != "raw" and value.startswith("@"):
        name = value[1:]
        try:
            data = read_file(name)
        except OSError as error:
            raise UsageError(f"cannot read {name}: {error.strerror or error}") from None
        return data.replace(b"\r", b"").replace(b"\n", b"") if kind == "data" else data
    return value.encode("utf-8", "surrogateescape")


def _template(text: str) -> str:
    """Pasted text as a recipe template: a literal ``${`` kept, shell variables made placeholders."""
    out: list[str] = []
    position = 0
    for match in _SHELL_VAR.finditer(text):
        out.append(text[position : match.start()].replace("${", "$${"))
        name = match.group(1) or match.group(2)
        secret = name.startswith("NETBENCH_SECRET_")
        out.append("${secret:" + name[len("NETBENCH_SECRET_") :] + "}" if secret else "${env:" + name + "}")
        position = match.end()
    out.append(text[position:].replace("${", "$${"))
    return "".join(out)


def from_curl(command: str | list[str], read_file: ReadFile, name: str | None = None) -> Imported:
    """The recipe a curl command stands for (raises :class:`UsageError` for what it cannot take)."""
    options = _options(_words(command))
    urls = [value for kind, value in options if kind == "url"]
    if len(urls) != 1:
        raise UsageError(
            "a curl command to import needs exactly one URL" + (f" (got {len(urls)})" if urls else "")
        )
    url = urls[0] if "://" in urls[0] else "http://" + urls[0]
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{urls[0]!r}: only http:// and https:// URLs can be imported")
    method: str | None = None
    headers: list[tuple[str, str]] = []
    removed: set[str] = set()
    body: bytes | None = None
    json_body = False
    insecure = False
    notes: list[str] = []
    for kind, value in options:
        if kind == "request":
            method = value
        elif kind == "header":
            header, sep, rest = value.partition(":")
            if not sep and header.endswith(";"):
                headers.append((header[:-1].strip(), ""))
            elif not sep or not header.strip():
                raise UsageError(f"-H {value!r}: a header is 'Name: value'")
            elif not rest.strip():
                removed.add(header.strip().lower())
            else:
                headers.append((header.strip(), rest.strip()))
        elif kind in ("data", "raw", "binary", "json"):
            piece = _data(kind, value, read_file)
            joiner = b"" if kind == "json" or body is None else b"&"
            body = (body or b"") + joiner + piece
            json_body = json_body or kind == "json"
        elif kind == "user":
            if ":" not in value:
                raise UsageError("-u USER without :PASSWORD makes curl ask for it; give -u USER:PASSWORD")
            token = base64.b64encode(value.encode("utf-8")).decode("ascii")
            headers.append(("Authorization", f"Basic {token}"))
        elif kind == "cookie":
            if "=" not in value:
                raise UsageError(f"-b {value!r}: a cookie file cannot be imported; give -b 'name=value'")
            headers.append(("Cookie", value))
        elif kind == "agent":
            headers.append(("User-Agent", value))
        elif kind == "referer":
            headers.append(("Referer", value))
        elif kind in ("-k", "--insecure"):
            insecure = True
        elif kind == "--compressed":
            headers.append(("Accept-Encoding", "gzip, deflate"))
        elif kind in ("-I", "--head"):
            method = method or "HEAD"
        elif kind in ("-L", "--location"):
            notes.append("-L: replay does not follow redirects; the step gets the first answer")
    have = {header.lower() for header, _ in headers}
    if json_body:
        headers += [(h, "application/json") for h in ("Content-Type", "Accept") if h.lower() not in have]
    elif body is not None and "content-type" not in have:
        headers.append(("Content-Type", "application/x-www-form-urlencoded"))
    headers = [(h, v) for h, v in headers if h.lower() not in removed]
    method = method or ("POST" if body is not None else "GET")
    target_url = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    scheme = "tls" if parts.scheme == "https" else "tcp"
    port = parts.port or (443 if scheme == "tls" else 80)
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return _redacted(
        method, _template(target_url), [(h, _template(v)) for h, v in headers],
        escape_template(body) if body is not None else None,
        f"{scheme}://{host}:{port}", insecure, name or f"{method} {parts.path or '/'}", notes,
    )  # fmt: skip


def _redacted(
    method: str,
    url: str,
    headers: list[tuple[str, str]],
    body: bytes | None,
    target: str,
    insecure: bool,
    name: str,
    notes: list[str],
) -> Imported:
    secrets = Secrets()
    head = f"{method} {url} HTTP/1.1\r\n" + "".join(f"{h}: {v}\r\n" for h, v in headers) + "\r\n"
    secrets.scan(head.encode("utf-8", "surrogateescape") + (body or b""))
    for value in list(secrets.values):
        if b"${" in value:  # already a placeholder (a shell variable): not a literal secret
            del secrets.values[value]

    def clean(text: str) -> str:
        return secrets.apply(text.encode("utf-8", "surrogateescape")).decode("utf-8", "surrogateescape")

    request = HttpRequest(
        method, clean(url), tuple((h, clean(v)) for h, v in headers), secrets.apply(body) if body else body
    )
    recipe = Recipe(
        name=name,
        steps=(Step(http=request),),
        target=target,
        tls=TlsSpec(insecure=True) if insecure else None,
    )
    return Imported(recipe, secrets.names(), tuple(notes))


# -- recipe to curl ---------------------------------------------------------


def _shell(text: str, expand: Callable[[str], str]) -> str:
    """*text* (a template) as one shell word: ``${secret:X}`` as ``"${NETBENCH_SECRET_X}"``,
    ``${env:X}`` as ``"${X}"``, other variables expanded; never a raw control character."""
    pieces: list[str] = []
    literal = ""
    position = 0
    for match in _PLACEHOLDER.finditer(text):
        literal += text[position : match.start()]
        body = match.group(1)
        position = match.end()
        if body is None:
            literal += "${"
        elif body.startswith(("secret:", "env:")):
            kind, _, name = body.partition(":")
            pieces.append(quote(literal))
            literal = ""
            pieces.append('"${' + ("NETBENCH_SECRET_" if kind == "secret" else "") + name + '}"')
        else:
            literal += expand(match.group(0))
    literal += text[position:]
    pieces.append(quote(literal))
    return "".join(pieces) or "''"


def to_curl(step: Step, recipe: Recipe, target: str, expand: Callable[[str], str]) -> str:
    """*step* (an ``http`` step) as a curl command line aimed at *target* (``tcp://`` or ``tls://``)."""
    from netbench.core.address import bracket_host, parse_target

    request = step.http
    if request is None:
        raise UsageError("only http steps can be written as curl commands")
    aim = parse_target(expand(target))
    scheme = "https" if aim.transport == "tls" else "http"
    port = f":{aim.port}" if aim.port != (443 if scheme == "https" else 80) else ""
    base = f"{scheme}://{bracket_host(aim.host)}{port}"
    words = ["curl", "-sS"]
    if recipe.tls is not None and recipe.tls.insecure:
        words.append("-k")
    method = request.method
    if method == "HEAD":
        words.append("-I")
    elif method != ("POST" if request.body is not None else "GET"):
        words += ["-X", _shell(method, expand)]
    names = set()
    for name, value in request.headers:
        names.add(name.lower())
        words += ["-H", _shell(f"{name}: {value}", expand)]
    if request.body is not None:
        if "content-type" not in names:
            words += ["-H", shlex.quote("Content-Type:")]  # curl would add a form Content-Type
        words += ["--data-binary", _shell(request.body.decode("utf-8", "surrogateescape"), expand)]
    words.append(_shell(base + request.url, expand))
    return " ".join(words)


def recipe_as_curl(recipe: Recipe, target: str | None, variables: Mapping[str, str]) -> list[str]:
    """Every step of *recipe*: ``http`` steps as curl commands, the others as ``#`` comments.

    *target* overrides the recipe's (its transport kept, as replay does);
    a ``lab:`` recipe has no address to print without one (a usage error).
    """
    from netbench.recipe.describe import describe_step

    values = {name: value for name, value in recipe.all_vars}
    values.update(variables)
    expand = variables_expander(values)
    aim = target or recipe.target
    if not aim:
        where = f"lab: {recipe.lab}" if recipe.lab else "no target"
        raise UsageError(
            f"{recipe.where} ({where}): give -t HOST:PORT to print curl commands "
            f"(netbench lab {recipe.lab or 'http'}:8080 starts one there)"
        )
    if "://" not in aim:
        aim = f"{'tls' if recipe.target and recipe.target.startswith('tls://') else 'tcp'}://{aim}"
    lines = [f"# {recipe.where}: {recipe.name}"]
    for index, step in _flat_steps(recipe):
        if step.http is not None:
            lines.append(to_curl(step, recipe, aim, expand))
        else:
            lines.append(f"# step {index}: {describe_step(step)} (not an http step)")
    return [_quote_comment(line) if line.startswith("#") else line for line in lines]


def _flat_steps(recipe: Recipe) -> list[tuple[str, Step]]:
    """Every step, included ones in place, labelled ``3`` or ``3 (login.recipe.yaml step 2)``."""
    out: list[tuple[str, Step]] = []
    for index, step in enumerate(recipe.steps, 1):
        if step.include is None:
            out.append((str(index), step))
            continue
        label = step.include.label
        out += [(f"{index} ({label} step {inner})", sub) for inner, sub in _flat_steps(step.include.recipe)]
    return out


def _quote_comment(line: str) -> str:
    from netbench.core.escape import scrub

    return scrub(line)


def variables_expander(variables: Mapping[str, str]) -> Callable[[str], str]:
    """An *expand* for :func:`to_curl`: ``${NAME}`` from *variables*, unknown ones left as written."""

    def expand(text: str) -> str:
        return _PLACEHOLDER.sub(
            lambda m: "${" if m.group(1) is None else variables.get(m.group(1), m.group(0)), text
        )

    return expand


def request_as_curl(request: HttpRequest, target: str, *, insecure: bool = False) -> str:
    """One request (the REPL's last one, say) as a curl command line aimed at *target*."""
    tls = TlsSpec(insecure=True) if insecure else None
    recipe = Recipe(name="request", steps=(Step(http=request),), tls=tls)
    return to_curl(recipe.steps[0], recipe, target, variables_expander({}))
