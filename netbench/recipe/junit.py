"""JUnit XML for recipe results (``netbench replay --junit-xml FILE``)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from netbench.recipe.engine import Result
from netbench.status import ExitStatus


def _clean(text: str) -> str:
    """Text without the characters XML 1.0 cannot hold (reports are already escaped)."""
    return "".join(c for c in text if c in "\t\n\r" or ord(c) >= 0x20)


def to_junit(results: Sequence[Result], suite: str = "netbench") -> str:
    """One ``<testsuite>`` with a ``<testcase>`` per recipe: failure, error or pass."""
    failures = sum(1 for r in results if not r.ok and r.status == ExitStatus.EXPECTATION_FAILED)
    errors = sum(1 for r in results if not r.ok and r.status != ExitStatus.EXPECTATION_FAILED)
    root = ET.Element(
        "testsuite",
        name=suite,
        tests=str(len(results)),
        failures=str(failures),
        errors=str(errors),
        time=f"{sum(r.duration for r in results):.3f}",
    )
    for result in results:
        case = ET.SubElement(
            root, "testcase", classname=result.path, name=result.name, time=f"{result.duration:.3f}"
        )
        if result.ok:
            continue
        kind = "failure" if result.status == ExitStatus.EXPECTATION_FAILED else "error"
        element = ET.SubElement(
            case, kind, message=_clean(result.message), type=f"exit status {int(result.status)}"
        )
        element.text = _clean(result.report())
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
