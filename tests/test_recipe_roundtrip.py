"""Recipes survive dump and load exactly: any bytes, any model (hypothesis)."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from netbench.recipe.dump import dumps, save
from netbench.recipe.load import load_recipe, loads
from netbench.recipe.model import (
    Capture,
    Expect,
    HttpRequest,
    Recipe,
    Retry,
    Step,
    TextMatch,
    TlsSpec,
    ValueCheck,
)

names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
text = st.text(max_size=40)
safe_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
match_ = st.builds(TextMatch, st.sampled_from(["exact", "contains"]), safe_text) | st.builds(
    TextMatch, st.just("regex"), st.sampled_from(["a+", "^HTTP/1.1", r"\d+", "(x|y)z"])
)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-1000, 1000)
    | st.floats(allow_nan=False, allow_infinity=False)
    | safe_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(names, inner, max_size=3),
    max_leaves=6,
)
value_checks = st.one_of(
    st.tuples(st.just("equal"), json_values).map(lambda pair: (pair,)),
    st.lists(
        st.sampled_from(
            [("length", 3), ("regex", "^a"), ("contains", "cat"), ("exists", False), ("type", "integer"),
             ("lt", 10), ("le", 1.5), ("gt", -1), ("ge", 0), ("ne", None)]
        ),
        min_size=1,
        max_size=3,
        unique_by=lambda pair: pair[0],
    ).map(tuple),
)  # fmt: skip
json_paths = st.sampled_from(["$.a", "$.items[0].id", "a.b.0", '$["odd key"]', "$.x-y"])


@st.composite
def expects(draw: st.DrawFn) -> Expect:
    kind = draw(st.sampled_from(["exact", "contains", "regex", "line", "count", "http", "closed"]))
    closed = draw(st.booleans())
    if kind == "exact":
        return Expect(exact=draw(st.binary(max_size=60)), closed=closed)
    if kind in ("contains", "line"):
        return Expect(**{kind: draw(safe_text).encode()}, closed=closed)
    if kind == "regex":
        return Expect(regex=draw(st.sampled_from(["a+", r"^\d{3} ", "(?P<x>y)"])), closed=closed)
    if kind == "count":
        return Expect(count=draw(st.integers(1, 10_000)))
    if kind == "closed":
        return Expect(closed=True)
    headers = draw(st.lists(st.tuples(names, match_), max_size=3, unique_by=lambda p: p[0]))
    body = draw(st.none() | match_)
    status = draw(st.integers(100, 599)) if not (headers or body) else draw(st.none() | st.integers(100, 599))
    json = draw(
        st.lists(st.builds(ValueCheck, json_paths, value_checks), max_size=3, unique_by=lambda c: c.path)
    )
    cookies = draw(
        st.lists(st.builds(ValueCheck, names, value_checks), max_size=2, unique_by=lambda c: c.path)
    )
    time_max = draw(st.none() | st.floats(0.001, 60, allow_nan=False))
    return Expect(
        status=status,
        headers=tuple(headers),
        body=body,
        json=tuple(json),
        cookies=tuple(cookies),
        time_max=time_max,
    )


@st.composite
def steps(draw: st.DrawFn) -> Step:
    action = draw(st.sampled_from(["send", "http", "close", "sleep", "expect"]))
    args: dict = {}
    if action == "send":
        args["send"] = draw(st.binary(max_size=80))
    elif action == "http":
        args["http"] = HttpRequest(
            draw(st.sampled_from(["GET", "POST", "HEAD"])),
            "/" + draw(st.from_regex(r"[a-z0-9/._?=&-]{0,20}", fullmatch=True)),
            tuple(draw(st.lists(st.tuples(names, safe_text), max_size=3, unique_by=lambda p: p[0]))),
            draw(st.none() | st.binary(max_size=40)),
        )
    elif action == "close":
        args["close"] = draw(st.sampled_from(["write", "both"]))
    elif action == "sleep":
        args["sleep"] = draw(st.floats(0, 10, allow_nan=False))
    if action == "expect" or draw(st.booleans()):
        args["expect"] = draw(expects())
        if args["expect"].regex:
            args["capture"] = (Capture(draw(names), "regex", args["expect"].regex, 0),)
        elif args["expect"].is_http or action == "http":
            args["capture"] = (Capture(draw(names) + "_etag", "header", "ETag"), Capture("s", "status"))
    if "expect" in args and draw(st.booleans()):
        args["retry"] = Retry(draw(st.integers(1, 1000)), draw(st.floats(0, 5, allow_nan=False)))
    args["timeout"] = draw(st.none() | st.floats(0.1, 60, allow_nan=False))
    args["reply"] = draw(st.none() | st.binary(max_size=80))
    args["name"] = draw(st.none() | safe_text)
    return Step(**args)


recipes = st.builds(
    Recipe,
    name=safe_text,
    steps=st.lists(steps(), min_size=1, max_size=5).map(tuple),
    target=st.none() | st.sampled_from(["tcp://127.0.0.1:8080", "udp://[::1]:7", "unix:/tmp/x.sock"]),
    lab=st.none() | st.sampled_from(["echo", "http"]),
    vars=st.lists(st.tuples(names, safe_text), max_size=3, unique_by=lambda p: p[0]).map(tuple),
    timeout=st.floats(0.1, 100, allow_nan=False),
    tls=st.none() | st.builds(TlsSpec, st.booleans(), st.none() | st.just("example.org")),
    description=st.none() | safe_text,
    cookies=st.booleans(),
)


@given(
    st.binary(max_size=300)
    | st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass"))
    | st.text(' \t\r\n\\"a${}\x00\x85\u2028\ufeffé#:-', max_size=80).map(str.encode)
)
@settings(max_examples=200, deadline=None)
def test_any_bytes_survive_dump_and_load(data: bytes) -> None:
    recipe = Recipe("bytes", (Step(send=data, expect=Expect(exact=data), reply=data),))
    back = loads(dumps(recipe))
    assert back.steps[0].send == data
    assert back.steps[0].expect == Expect(exact=data)
    assert back.steps[0].reply == data


@given(recipes)
@settings(max_examples=100, deadline=None)
def test_any_recipe_model_round_trips(recipe: Recipe) -> None:
    assert loads(dumps(recipe)) == recipe


def test_awkward_bytes_are_written_readably() -> None:
    recipe = Recipe("x", (Step(send=b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"), Step(send=b"\x00\xff\xfe binary")))
    text = dumps(recipe)
    assert 'send: "GET / HTTP/1.1\\r\\n\\\n    Host: x\\r\\n\\\n    \\r\\n"' in text  # a line per line
    assert "send_hex: 00 ff fe" in text


@given(st.binary(max_size=60))
@settings(max_examples=100, deadline=None)
def test_http_reply_with_a_binary_body_keeps_a_readable_head(body: bytes) -> None:
    reply = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n\x1f\x8b" + body
    text = dumps(Recipe("r", (Step(send=b"x", reply=reply),)))
    assert 'reply: "HTTP/1.1 200 OK\\r\\n\\' in text
    assert "reply_hex:" in text and "1f 8b" in text.split("reply_hex:")[1][:12]
    assert loads(text).steps[0].reply == reply


def test_save_is_atomic_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "a.recipe.yaml"
    path.write_text("old content that must not be half-replaced\n")
    recipe = Recipe("saved", (Step(send=b"PING\r\n", expect=Expect(line=b"PONG")),))
    save(recipe, path)
    assert load_recipe(path) == recipe
    assert os.listdir(tmp_path) == ["a.recipe.yaml"]
