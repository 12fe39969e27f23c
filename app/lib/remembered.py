"""Rendered HTML remembered per process, by everything it was made from.

Used for what every page shows again and again (a list's rows, the dashboard's sidebar, a record page's blank
forms): each is a pure function of its key, so a hit can never be stale. A key may hold an object's identity
(``id(catalogue)``): the object is kept with the entry, so no newer object can take that identity while the entry
lives, and a lookup checks it is the same object.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, TypeVar

__all__ = ["Remembered"]

ValueT = TypeVar("ValueT")


class Remembered(Generic[ValueT]):
    """At most ``size`` values by key, the oldest forgotten first."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._values: dict[Hashable, tuple[object, ValueT]] = {}

    def get(self, owner: object, key: Hashable) -> ValueT | None:
        """The value stored under ``key`` for ``owner`` (the object whose identity the key holds, or None when the
        key holds none), or None."""
        found = self._values.get(key)
        return found[1] if found is not None and found[0] is owner else None

    def put(self, owner: object, key: Hashable, value: ValueT) -> None:
        if len(self._values) >= self._size:
            del self._values[next(iter(self._values))]
        self._values[key] = (owner, value)

    def clear(self) -> None:
        self._values.clear()

    def __len__(self) -> int:
        return len(self._values)
