"""The h11 in use: the compiled build (h11-mypyc) where it is installed, else pure h11.

Both are the same code with the same API; every HTTP module imports
``from netbench.core.h11lib import h11`` so the choice is made here once.
Type checkers see pure h11. :mod:`netbench.core.h11_build` says which one
is installed without importing either.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import h11
else:
    try:
        import h11_mypyc as h11
    except ImportError:
        import h11

__all__ = ["h11"]
