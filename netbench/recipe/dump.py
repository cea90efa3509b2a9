"""Write a recipe as YAML, and save it atomically.

Byte values are written as YAML text where they are text (double-quoted
with escapes for CR, controls and NUL; a literal block for plain multi-line
text) and as hex (``send_hex``, ``hex``, ``reply_hex``, ``body_hex``) where
they are not, so any bytes come back exactly: ``loads(dumps(r)) == r``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from netbench.core.escape import is_text
from netbench.recipe.model import (
    DEFAULT_TIMEOUT,
    Capture,
    Expect,
    HttpRequest,
    Recipe,
    Step,
    TextMatch,
    ValueCheck,
)

_PRINTABLE_BLOCK = re.compile(r"^[^\x00-\x08\x0b-\x1f\x7f-\x9f\ufeff\u2028\u2029]*$")


_ESCAPES = {
    "\0": "0",
    "\x07": "a",
    "\x08": "b",
    "\t": "t",
    "\n": "n",
    "\x0b": "v",
    "\x0c": "f",
    "\r": "r",
    "\x1b": "e",
    '"': '"',
    "\\": "\\",
    "\x85": "N",
    "\u2028": "L",
    "\u2029": "P",
}


def _escape_char(char: str) -> str:
    """One character inside a YAML double-quoted scalar."""
    if char in _ESCAPES:
        return "\\" + _ESCAPES[char]
    code = ord(char)
    if 0x20 <= code <= 0x7E or 0xA0 <= code <= 0xD7FF or (0xE000 <= code <= 0xFFFD and code != 0xFEFF):
        return char
    if 0x10000 <= code <= 0x10FFFF:
        return char
    if code <= 0xFF:
        return f"\\x{code:02X}"
    return f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}"


class _Dumper(yaml.SafeDumper):
    """SafeDumper with a readable choice of string style.

    Double-quoted text with line breaks is continued on a new line after
    each ``\\n`` (an escaped line break, so no byte is added or lost).
    """

    def write_double_quoted(self, text: str, split: bool = True) -> None:
        if not split or "\n" not in text[:-1]:
            super().write_double_quoted(text, split)
            return
        self.write_indicator('"', True)
        line_start = False
        last = len(text) - 1
        for index, char in enumerate(text):
            self._write_raw("\\ " if line_start and char == " " else _escape_char(char))
            line_start = False
            if char == "\n" and index < last:
                self._write_raw("\\")
                self.write_indent()
                line_start = True
        self.write_indicator('"', False)

    def _write_raw(self, data: str) -> None:
        self.column += len(data)
        self.whitespace = False
        self.indention = False
        self.stream.write(data.encode(self.encoding) if self.encoding else data)


def _represent_str(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style: str | None = None
    if "\n" in text[:-1] and _PRINTABLE_BLOCK.match(text) and not _awkward_block(text):
        style = "|"
    elif not _PRINTABLE_BLOCK.match(text) or "\n" in text or "\t" in text:
        style = '"'
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


def _awkward_block(text: str) -> bool:
    """True for text a literal block would not keep exactly (leading spaces, trailing blanks)."""
    return text[:1] in (" ", "\n") or any(line.endswith(" ") for line in text.split("\n"))


_Dumper.add_representer(str, _represent_str)


class _Hex(str):
    """Hex digits, written as a literal block when long."""


def _represent_hex(dumper: yaml.SafeDumper, text: _Hex) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(text), style="|" if "\n" in text else None)


_Dumper.add_representer(_Hex, _represent_hex)


class _Flow(dict):
    """A small mapping written on one line: ``{status: 200}``."""


def _represent_flow(dumper: yaml.SafeDumper, data: _Flow) -> yaml.MappingNode:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=True)


_Dumper.add_representer(_Flow, _represent_flow)


def _flow(data: dict[str, Any]) -> dict[str, Any]:
    """*data* as a one-line mapping when it is short and flat enough."""

    def small(value: Any) -> bool:
        if isinstance(value, dict):
            return all(small(v) for v in value.values())
        return not isinstance(value, (list, _Hex)) and "\n" not in str(value) and len(str(value)) < 50

    if all(small(v) for v in data.values()) and len(repr(data)) < 80:
        return _Flow(data)
    return data


def _hex(data: bytes) -> _Hex:
    rows = [data[start : start + 16].hex(" ") for start in range(0, len(data), 16)]
    return _Hex("\n".join(rows) + ("\n" if len(rows) > 1 else ""))


def _as_text(data: bytes) -> str | None:
    """*data* as text when it is text worth reading, else None (write hex)."""
    if not is_text(data):
        return None
    return data.decode("utf-8")


def _put_bytes(out: dict[str, Any], key: str, hex_key: str, data: bytes) -> None:
    text = _as_text(data)
    if text is None:
        out[hex_key] = _hex(data)
    else:
        out[key] = text


def _put_reply(out: dict[str, Any], data: bytes) -> None:
    """A reply: text, hex, or (an HTTP head with a binary body) the text head then the hex rest."""
    end = data.find(b"\r\n\r\n") + 4
    if _as_text(data) is None and end >= 4 and data.startswith(b"HTTP/"):
        head = _as_text(data[:end])
        if head is not None:
            out["reply"] = head
            if end < len(data):
                out["reply_hex"] = _hex(data[end:])
            return
    _put_bytes(out, "reply", "reply_hex", data)


def _text_only(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{what} must be UTF-8 text to be written in a recipe") from None


def _match(match: TextMatch) -> Any:
    if match.kind == "exact":
        return match.value
    return {match.kind: match.value}


def expect_data(expect: Expect) -> dict[str, Any]:
    """The YAML mapping of an expectation."""
    out: dict[str, Any] = {}
    if expect.exact is not None:
        _put_bytes(out, "exact", "hex", expect.exact)
    if expect.contains is not None:
        out["contains"] = _text_only(expect.contains, "expect.contains")
    if expect.regex is not None:
        out["regex"] = expect.regex
    if expect.line is not None:
        out["line"] = _text_only(expect.line, "expect.line")
    if expect.count is not None:
        out["bytes"] = expect.count
    if expect.status is not None:
        out["status"] = expect.status
    if expect.headers:
        out["headers"] = _flow({name: _match(match) for name, match in expect.headers})
    if expect.body is not None:
        out["body"] = _match(expect.body)
    if expect.json:
        out["json"] = {check.path: _value_check(check) for check in expect.json}
    if expect.cookies:
        out["cookies"] = _flow({check.path: _value_check(check) for check in expect.cookies})
    if expect.time_max is not None:
        out["time"] = _Flow(max=expect.time_max)
    if expect.closed:
        out["closed"] = True
    return _flow(out)


def _value_check(check: ValueCheck) -> Any:
    """A plain value for a lone equality that cannot be read as checks, else the checks mapping."""
    if len(check.checks) == 1 and check.checks[0][0] == "equal" and not isinstance(check.checks[0][1], dict):
        return check.checks[0][1]
    return _flow(dict(check.checks))


def _capture(capture: Capture) -> dict[str, Any]:
    if capture.kind in ("status", "body"):
        return {capture.kind: True}
    out: dict[str, Any] = {capture.kind: capture.arg}
    if capture.kind == "regex":
        default = 1 if re.compile(capture.arg.encode("utf-8", "surrogateescape")).groups else 0
        if capture.group != default:
            out["group"] = capture.group
    return out


def _http(request: HttpRequest) -> dict[str, Any]:
    out: dict[str, Any] = {"method": request.method, "url": request.url}
    if request.headers:
        out["headers"] = _flow(dict(request.headers))
    if request.body is not None:
        _put_bytes(out, "body", "body_hex", request.body)
    return _flow(out)


def step_data(step: Step) -> dict[str, Any]:
    """The YAML mapping of one step."""
    out: dict[str, Any] = {}
    if step.name is not None:
        out["name"] = step.name
    if step.send is not None:
        _put_bytes(out, "send", "send_hex", step.send)
    if step.http is not None:
        out["http"] = _http(step.http)
    if step.close is not None:
        out["close"] = step.close
    if step.sleep is not None:
        out["sleep"] = step.sleep
    if step.expect is not None:
        out["expect"] = expect_data(step.expect)
    if step.capture:
        out["capture"] = _flow({capture.name: _capture(capture) for capture in step.capture})
    if step.include is not None:
        out["include"] = step.include.path
    if step.retry is not None:
        out["retry"] = _Flow(times=step.retry.times, interval=step.retry.interval)
    if step.timeout is not None:
        out["timeout"] = step.timeout
    if step.reply is not None:
        _put_reply(out, step.reply)
    return out


def recipe_data(recipe: Recipe) -> dict[str, Any]:
    """The YAML mapping of a whole recipe."""
    out: dict[str, Any] = {"netbench": recipe.version, "name": recipe.name}
    if recipe.description is not None:
        out["description"] = recipe.description
    if recipe.target is not None:
        out["target"] = recipe.target
    if recipe.lab is not None:
        out["lab"] = recipe.lab
    if recipe.timeout != DEFAULT_TIMEOUT:
        out["timeout"] = recipe.timeout
    if not recipe.cookies:
        out["cookies"] = False
    if recipe.tls is not None:
        tls: dict[str, Any] = {"insecure": recipe.tls.insecure}
        if recipe.tls.sni is not None:
            tls["sni"] = recipe.tls.sni
        if recipe.tls.cafile is not None:
            tls["cafile"] = recipe.tls.cafile
        out["tls"] = tls
    if recipe.vars:
        out["vars"] = dict(recipe.vars)
    out["steps"] = [step_data(step) for step in recipe.steps]
    return out


def dumps(recipe: Recipe) -> str:
    """The recipe as YAML text (format version 1)."""
    text: str = yaml.dump(
        recipe_data(recipe),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )
    return text


def save(recipe: Recipe, path: str | Path, *, replace: bool = True) -> None:
    """Write *recipe* to *path* with :func:`netbench.files.write_file`.

    Atomic over a regular file or a new path, through a symlink to its
    target, straight into a FIFO or device; ``replace=False`` refuses an
    existing path (:class:`FileExistsError`).
    """
    from netbench.files import write_file

    write_file(path, dumps(recipe), replace=replace)
