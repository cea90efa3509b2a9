"""JUnit XML for recipe results (``netbench replay --junit-xml FILE``).

The document is always well-formed XML 1.0, whatever the recipe holds:
names, paths and messages go through :func:`netbench.core.escape.scrub`
(one line, controls and bidi characters escaped as everywhere else), and any
character XML 1.0 cannot hold that is left (a lone surrogate, U+FFFE,
U+FFFF) is written as a ``\\uNNNN`` escape, never dropped silently.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from netbench.core.escape import scrub
from netbench.recipe.engine import Result
from netbench.status import ExitStatus

# What XML 1.0 cannot hold (its Char production, inverted).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml(text: str, *, one_line: bool = True) -> str:
    """*text* made terminal-safe by the one escaper, then safe for XML 1.0."""
    safe = scrub(text, keep_newlines=not one_line)
    return _NOT_XML.sub(lambda match: f"\\u{ord(match.group()):04x}", safe)


def to_junit(results: Sequence[Result], suite: str = "netbench") -> str:
    """One ``<testsuite>`` with a ``<testcase>`` per recipe: failure, error or pass."""
    failures = sum(1 for r in results if not r.ok and r.status == ExitStatus.EXPECTATION_FAILED)
    errors = sum(1 for r in results if not r.ok and r.status != ExitStatus.EXPECTATION_FAILED)
    root = ET.Element(
        "testsuite",
        name=_xml(suite),
        tests=str(len(results)),
        failures=str(failures),
        errors=str(errors),
        time=f"{sum(r.duration for r in results):.3f}",
    )
    for result in results:
        names = {"classname": _xml(result.path), "name": _xml(result.name)}
        case = ET.SubElement(root, "testcase", names, time=f"{result.duration:.3f}")
        if result.ok:
            continue
        kind = "failure" if result.status == ExitStatus.EXPECTATION_FAILED else "error"
        element = ET.SubElement(
            case, kind, message=_xml(result.message), type=f"exit status {int(result.status)}"
        )
        element.text = _xml(result.report(), one_line=False)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
