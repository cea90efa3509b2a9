"""Frozen value classes without :mod:`dataclasses`: the recipe model, results, HTTP responses.

A frozen dataclass costs 1-2.5 ms of start-up to create (and importing
:mod:`dataclasses` pulls in :mod:`inspect`, ~10 ms more), paid by every
``replay``, every pytest run with recipes and every ``http``. A subclass of
:class:`Frozen` lists its fields in ``__match_args__`` (the order its
``__init__`` takes them) and sets them in ``__init__``: declared in
``__slots__`` and set one by one with ``object.__setattr__`` (small memory,
the recipe model), or all in one step with :func:`set_fields` (fast to make,
an HTTP response per request). This base gives it what
``@dataclass(frozen=True)`` gave: equality and hashing by the fields (those
in ``_uncompared`` left out, as ``field(compare=False)`` did), a
``Name(field=value, ...)`` repr, no assignment or deletion of fields,
copying and pickling, and :meth:`Frozen.replace` for what
``dataclasses.replace`` did.
"""

from __future__ import annotations

from operator import attrgetter
from typing import Any, ClassVar, NoReturn, Self


class Frozen:
    """An immutable value compared and hashed by its fields (see the module docstring)."""

    __slots__ = ()
    __match_args__: ClassVar[tuple[str, ...]] = ()
    _uncompared: ClassVar[tuple[str, ...]] = ()
    _all: ClassVar[Any]  # attrgetter of every field: a tuple in __match_args__ order
    _key: ClassVar[Any]  # attrgetter of the compared fields

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        names = cls.__match_args__
        cls._all = staticmethod(_getter(names))
        cls._key = staticmethod(_getter(tuple(name for name in names if name not in cls._uncompared)))

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return bool(self._key(self) == self._key(other))

    def __hash__(self) -> int:
        return hash(self._key(self))

    def __repr__(self) -> str:
        values = ", ".join(
            f"{name}={value!r}" for name, value in zip(self.__match_args__, self._all(self), strict=True)
        )
        return f"{self.__class__.__qualname__}({values})"

    def __setattr__(self, name: str, value: Any) -> NoReturn:
        raise AttributeError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError(f"cannot delete field {name!r}")

    def __reduce__(self) -> tuple[type[Self], tuple[Any, ...]]:
        return (self.__class__, self._all(self))

    def astuple(self) -> tuple[Any, ...]:
        """Every field's value in ``__match_args__`` order (values that are objects stay objects)."""
        return tuple(self._all(self))

    def replace(self, **changes: Any) -> Self:
        """A copy with the fields named in *changes* changed (TypeError for an unknown name)."""
        values = dict(zip(self.__match_args__, self._all(self), strict=True))
        unknown = changes.keys() - values.keys()
        if unknown:
            raise TypeError(f"{self.__class__.__qualname__} has no field {sorted(unknown)[0]!r}")
        values.update(changes)
        return self.__class__(**values)


def set_fields(instance: Frozen, fields: dict[str, Any]) -> None:
    """Set every field of *instance* (a subclass without ``__slots__``) in one step, in its ``__init__``."""
    object.__setattr__(instance, "__dict__", fields)


def _getter(names: tuple[str, ...]) -> Any:
    """A function of an object giving the tuple of its attributes *names* (C code for two or more)."""
    if len(names) > 1:
        return attrgetter(*names)
    if names:
        one = attrgetter(names[0])
        return lambda item: (one(item),)
    return lambda item: ()
