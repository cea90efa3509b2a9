"""Plain-text tables for the port tools (``ports``, ``services``, ``scan``).

Pure: rows of strings in, one string out. Cells are assumed to be
terminal-safe already (callers escape anything that came from a peer).
"""

from __future__ import annotations

from collections.abc import Sequence


def render_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    right: Sequence[int] = (),
    gap: str = "  ",
) -> str:
    """Return *rows* under *headers*, columns padded to their widest cell.

    ``right`` lists the indexes of right-aligned columns (numbers). The
    last column is never padded, so lines carry no trailing spaces. The
    result ends with a newline; an empty *rows* still prints the header.
    """
    widths = [len(h) for h in headers]
    for row in rows:
        for index, cell in enumerate(row):
            widths[index] = max(widths[index], len(cell))
    lines = []
    last = len(headers) - 1
    for row in (headers, *rows):
        cells = []
        for index, cell in enumerate(row):
            if index == last:
                cells.append(cell.rjust(widths[index]) if index in right else cell)
            elif index in right:
                cells.append(cell.rjust(widths[index]))
            else:
                cells.append(cell.ljust(widths[index]))
        lines.append(gap.join(cells).rstrip())
    return "\n".join(lines) + "\n"
