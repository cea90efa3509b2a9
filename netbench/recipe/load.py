"""Load a recipe file: safe YAML, then a schema check with line numbers.

Only PyYAML's safe loader is used (the C one, ``CSafeLoader``, when PyYAML
was built with libyaml); nothing in a recipe is executed. The YAML node tree
is walked next to the constructed data so every complaint names the line:
``hello.recipe.yaml:12: step 3: unknown key 'expct' (did you mean 'expect'?)``.
Every problem raises :class:`~netbench.errors.RecipeError` (exit status 2).
"""

from __future__ import annotations

import gc
import re
from pathlib import Path
from typing import Any

import yaml

from netbench.core.http_sniff import is_method
from netbench.errors import NetbenchError, RecipeError
from netbench.recipe.finding import SUFFIX
from netbench.recipe.loadparts import MAX_STEPS, identity, include, value_checks
from netbench.recipe.loadparts import retry as _retry
from netbench.recipe.model import (
    FORMAT_VERSION,
    Capture,
    CaptureKind,
    Expect,
    HttpRequest,
    Recipe,
    Step,
    TextMatch,
    TlsSpec,
)
from netbench.recipe.yamlnode import (
    NAME,
    Loader,
    Node,
    as_bytes,
    as_hex,
    as_number,
    as_regex,
    as_text,
    boolean,
    compose,
    kind_of,
    name_of,
)

TOP_KEYS = (
    "netbench",
    "name",
    "description",
    "target",
    "lab",
    "vars",
    "timeout",
    "tls",
    "cookies",
    "steps",
)
STEP_KEYS = (
    "send",
    "send_hex",
    "http",
    "close",
    "sleep",
    "include",
    "expect",
    "capture",
    "retry",
    "timeout",
    "reply",
    "reply_hex",
    "name",
)
EXPECT_KEYS = (
    "exact",
    "hex",
    "contains",
    "regex",
    "line",
    "bytes",
    "closed",
    "status",
    "headers",
    "body",
    "json",
    "cookies",
    "time",
)
HTTP_CHECKS = ("status", "headers", "body", "json", "cookies")
RAW_KEYS = ("exact", "hex", "contains", "regex", "line", "bytes")
HTTP_KEYS = ("method", "url", "headers", "body", "body_hex")
MATCH_KEYS = ("exact", "contains", "regex")
CAPTURE_KEYS = ("header", "regex", "group", "json", "status", "body", "cookie")
CAPTURE_KINDS: tuple[CaptureKind, ...] = ("header", "regex", "json", "status", "body", "cookie")


__all__ = ["NAME", "Loader", "load_recipe", "loads"]


def _text_match(node: Node, what: str) -> TextMatch:
    if isinstance(node.value, dict):
        fields = node.mapping(what, MATCH_KEYS)
        if len(fields) != 1:
            raise node.fail(f"{what} takes exactly one of: exact, contains, regex")
        ((kind, value),) = fields.items()
        text = as_regex(value, f"{what}.regex") if kind == "regex" else as_text(value, f"{what}.{kind}")
        return TextMatch(kind, text)  # type: ignore[arg-type]
    return TextMatch("exact", as_text(node, what))


def _expect(node: Node, where: str) -> Expect:
    fields = node.mapping(f"{where}: expect", EXPECT_KEYS)
    if not fields:
        raise node.fail(f"{where}: expect is empty (known checks: {', '.join(EXPECT_KEYS)})")
    raw = [key for key in RAW_KEYS if key in fields]
    if len(raw) > 1:
        raise fields[raw[1]].fail(f"{where}: expect has both {raw[0]!r} and {raw[1]!r}; use one per step")
    http = [key for key in HTTP_CHECKS if key in fields]
    if raw and http:
        raise fields[http[0]].fail(
            f"{where}: expect {http[0]!r} parses an HTTP response and cannot go with {raw[0]!r}"
        )
    args: dict[str, Any] = {}
    for key in ("exact", "contains", "line"):
        if key in fields:
            args[key] = as_bytes(fields[key], f"{where}: expect.{key}")
    if "hex" in fields:
        args["exact"] = as_hex(fields["hex"], f"{where}: expect.hex")
    if "regex" in fields:
        args["regex"] = as_regex(fields["regex"], f"{where}: expect.regex")
    if "bytes" in fields:
        count = fields["bytes"].value
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise fields["bytes"].fail(f"{where}: expect.bytes must be a byte count (1 or more)")
        args["count"] = count
    if "closed" in fields:
        args["closed"] = boolean(fields["closed"], f"{where}: expect.closed")
        if not args["closed"]:
            raise fields["closed"].fail(f"{where}: expect.closed can only be true")
    if "status" in fields:
        status = fields["status"].value
        if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 999:
            raise fields["status"].fail(f"{where}: expect.status must be an HTTP status (100-999)")
        args["status"] = status
    if "headers" in fields:
        pairs = []
        for key, _k, value in fields["headers"].items(f"{where}: expect.headers", ()):
            pairs.append((key, _text_match(value, f"{where}: expect.headers.{key}")))
        args["headers"] = tuple(pairs)
    if "body" in fields:
        args["body"] = _text_match(fields["body"], f"{where}: expect.body")
    if "json" in fields:
        args["json"] = value_checks(fields["json"], f"{where}: expect.json", json_paths=True)
    if "cookies" in fields:
        args["cookies"] = value_checks(fields["cookies"], f"{where}: expect.cookies", json_paths=False)
    if "time" in fields:
        if not isinstance(fields["time"].value, dict):
            raise fields["time"].fail(f"{where}: expect.time is a mapping: time: {{max: 500ms}}")
        limits = fields["time"].mapping(f"{where}: expect.time", ("max",))
        if "max" not in limits:
            raise fields["time"].fail(f"{where}: expect.time needs max (time: {{max: 500ms}})")
        args["time_max"] = as_number(limits["max"], f"{where}: expect.time.max")
    return Expect(**args)


def _http(node: Node, where: str) -> HttpRequest:
    if isinstance(node.value, str):
        words = node.value.split()
        if len(words) != 2:
            raise node.fail(f"{where}: http as text is 'METHOD URL' (e.g. 'GET /index.html')")
        return HttpRequest(method=words[0], url=words[1])
    fields = node.mapping(f"{where}: http", HTTP_KEYS)
    if "url" not in fields:
        raise node.fail(f"{where}: http needs a url (the request target, e.g. /index.html)")
    headers: list[tuple[str, str]] = []
    if "headers" in fields:
        for key, _k, value in fields["headers"].items(f"{where}: http.headers", ()):
            headers.append((key, as_text(value, f"{where}: http.headers.{key}")))
    if "body" in fields and "body_hex" in fields:
        raise fields["body_hex"].fail(f"{where}: http has both body and body_hex")
    body = None
    if "body" in fields:
        body = as_bytes(fields["body"], f"{where}: http.body")
    elif "body_hex" in fields:
        body = as_hex(fields["body_hex"], f"{where}: http.body_hex")
    method = as_text(fields["method"], f"{where}: http.method") if "method" in fields else "GET"
    if not (is_method(method.upper()) or re.fullmatch(r"\$\{[^}]+\}", method)):
        raise fields["method"].fail(f"{where}: http.method {method!r} is not an HTTP method")
    return HttpRequest(method, as_text(fields["url"], f"{where}: http.url"), tuple(headers), body)


def _captures(node: Node, where: str, step_is_http: bool) -> tuple[Capture, ...]:
    out = []
    for name, key_node, spec in node.items(f"{where}: capture", ()):
        name_of(key_node, f"{where}: capture name")
        what = f"{where}: capture {name}"
        fields = spec.mapping(what, CAPTURE_KEYS)
        kinds = [key for key in CAPTURE_KINDS if key in fields]
        if len(kinds) != 1:
            raise spec.fail(f"{what}: give exactly one of {', '.join(CAPTURE_KINDS)}")
        kind = kinds[0]
        if "group" in fields and kind != "regex":
            raise fields["group"].fail(f"{what}: group goes with regex only")
        if kind != "regex" and not step_is_http:
            raise spec.fail(f"{what}: {kind} captures need an HTTP answer (an http step or status/body)")
        if kind in ("status", "body"):
            if not boolean(fields[kind], f"{what}.{kind}"):
                raise fields[kind].fail(f"{what}.{kind} can only be true")
            out.append(Capture(name, kind))
            continue
        if kind == "regex":
            pattern = as_regex(fields["regex"], f"{what}.regex")
            group: int | str = 1 if re.compile(pattern.encode("utf-8", "surrogateescape")).groups else 0
            if "group" in fields:
                value = fields["group"].value
                if isinstance(value, bool) or not isinstance(value, (int, str)):
                    raise fields["group"].fail(f"{what}.group must be a group number or name")
                group = value
            out.append(Capture(name, "regex", pattern, group))
            continue
        out.append(Capture(name, kind, as_text(fields[kind], f"{what}.{kind}")))
    return tuple(out)


ACTIONS = ("send", "send_hex", "http", "close", "sleep", "include")


def _step(node: Node, index: int, including: tuple[str, ...]) -> Step:
    where = f"step {index}"
    fields = node.mapping(where, STEP_KEYS)
    actions = [key for key in ACTIONS if key in fields]
    if len(actions) > 1:
        raise fields[actions[1]].fail(f"{where} has both {actions[0]!r} and {actions[1]!r}; split it in two")
    if not actions and "expect" not in fields:
        raise node.fail(f"{where} does nothing: give send, send_hex, http, close, sleep, include or expect")
    args: dict[str, Any] = {"line": node.line}
    if "include" in fields:
        others = [key for key in fields if key not in ("include", "name")]
        if others:
            raise fields[others[0]].fail(
                f"{where}: an include step takes only include and name, not {others[0]!r}"
            )
        args["include"] = include(fields["include"], where, including)
    if "retry" in fields:
        if "expect" not in fields:
            raise fields["retry"].fail(
                f"{where}: retry needs an expect (what to wait for), and there is none"
            )
        args["retry"] = _retry(fields["retry"], where)
    if "send" in fields:
        args["send"] = as_bytes(fields["send"], f"{where}: send")
    if "send_hex" in fields:
        args["send"] = as_hex(fields["send_hex"], f"{where}: send_hex")
    if "http" in fields:
        args["http"] = _http(fields["http"], where)
    if "close" in fields:
        mode = fields["close"].value
        if mode not in ("write", "both"):
            raise fields["close"].fail(f"{where}: close must be 'write' (half-close) or 'both', not {mode!r}")
        args["close"] = mode
    if "sleep" in fields:
        args["sleep"] = as_number(fields["sleep"], f"{where}: sleep", positive=False)
    if "expect" in fields:
        args["expect"] = _expect(fields["expect"], where)
    if "capture" in fields:
        if "expect" not in fields and "http" not in fields:
            raise fields["capture"].fail(f"{where}: capture needs an expect or an http request")
        is_http = "http" in fields or bool(args.get("expect") and args["expect"].is_http)
        args["capture"] = _captures(fields["capture"], where, is_http)
    if "timeout" in fields:
        args["timeout"] = as_number(fields["timeout"], f"{where}: timeout")
    if "reply" in fields or "reply_hex" in fields:  # both: the text, then the binary rest
        head = as_bytes(fields["reply"], f"{where}: reply") if "reply" in fields else b""
        tail = as_hex(fields["reply_hex"], f"{where}: reply_hex") if "reply_hex" in fields else b""
        args["reply"] = head + tail
    if "name" in fields:
        args["name"] = as_text(fields["name"], f"{where}: name")
    return Step(**args)


def _version(node: Node | None, top: Node) -> int:
    if node is None:
        raise top.fail("not a netbench recipe: 'netbench: 1' (the format version) is missing")
    value = node.value
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise node.fail(f"netbench: the format version must be a whole number (1), not {value!r}")
    if value > FORMAT_VERSION:
        raise node.fail(
            f"recipe format version {value} is newer than this netbench understands "
            f"({FORMAT_VERSION}); upgrade netbench"
        )
    return value


def _default_name(path: str) -> str:
    base = Path(path).name
    return base[: -len(SUFFIX)] if base.endswith(SUFFIX) else Path(path).stem or "recipe"


def loads(text: str, path: str = "<recipe>", *, including: tuple[str, ...] = ()) -> Recipe:
    """Parse recipe *text*; *path* is used in messages, for the default name and to find includes.

    *including* is the chain of files that include this one (to refuse cycles).
    """
    collecting = gc.isenabled()
    gc.disable()  # a big recipe is many small objects, none of them cyclic garbage
    try:
        return _loads(text, path, including)
    finally:
        if collecting:
            gc.enable()


def _loads(text: str, path: str, including: tuple[str, ...]) -> Recipe:
    top = compose(text, path)
    if top is None:
        raise RecipeError("empty file: not a recipe", path, 1)
    fields = top.mapping("recipe", TOP_KEYS)
    version = _version(fields.get("netbench"), top)
    args: dict[str, Any] = {"version": version, "path": path}
    args["name"] = as_text(fields["name"], "name") if "name" in fields else _default_name(path)
    if "description" in fields:
        args["description"] = as_text(fields["description"], "description")
    if "target" in fields:
        args["target"] = _target(fields["target"])
    if "lab" in fields:
        args["lab"] = _lab(fields["lab"])
    if "vars" in fields:
        args["vars"] = tuple(
            (name_of(key, "variable"), as_text(value, f"vars.{name}"))
            for name, key, value in fields["vars"].items("vars", ())
        )
    if "timeout" in fields:
        args["timeout"] = as_number(fields["timeout"], "timeout")
    if "cookies" in fields:
        args["cookies"] = boolean(fields["cookies"], "cookies")
    if "tls" in fields:
        tls = fields["tls"].mapping("tls", ("insecure", "sni", "cafile"))
        args["tls"] = TlsSpec(
            insecure=boolean(tls["insecure"], "tls.insecure") if "insecure" in tls else False,
            sni=as_text(tls["sni"], "tls.sni") if "sni" in tls else None,
            cafile=as_text(tls["cafile"], "tls.cafile") if "cafile" in tls else None,
        )
    if "steps" not in fields:
        raise top.fail("the recipe has no steps (a 'steps:' list)")
    steps = fields["steps"]
    if not isinstance(steps.node, yaml.SequenceNode):
        raise steps.fail(f"steps must be a list (- send: ...), not {kind_of(steps.value)}")
    if not steps.node.value:
        raise steps.fail("steps is empty")
    chain = (*including, identity(path))
    args["steps"] = tuple(_step(node, index, chain) for index, node in enumerate(steps.elements(), 1))
    recipe = Recipe(**args)
    if recipe.size - len(recipe.steps) > MAX_STEPS:
        raise steps.fail(f"its includes add more than {MAX_STEPS} steps (counting each included step)")
    return recipe


def _target(node: Node) -> str:
    from netbench.core.address import parse_target

    text = as_text(node, "target")
    if "${" not in text:
        try:
            parse_target(text)
        except NetbenchError as error:
            raise node.fail(f"target: {error}") from None
    return text


def _lab(node: Node) -> str:
    name = as_text(node, "lab")
    try:
        from netbench.lab import SERVICES
    except ImportError:
        return name
    if name not in SERVICES:
        raise node.fail(f"lab: unknown service {name!r} (known: {', '.join(sorted(SERVICES))})")
    return name


def load_recipe(path: str | Path, *, including: tuple[str, ...] = ()) -> Recipe:
    """Read and check the recipe file at *path* (*including*: see :func:`loads`)."""
    name = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as error:
        raise RecipeError(f"cannot read recipe: {error.strerror or error}", name) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise RecipeError("not UTF-8 text (write binary data as hex)", name, line) from None
    return loads(text, name, including=including)
