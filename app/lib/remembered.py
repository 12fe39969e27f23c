"""Rendered HTML remembered per process, by everything it was made from.

Used for what every page shows again and again (a list's rows, the dashboard's sidebar, a record page's blank
forms): each is a pure function of its key and of its *owner*, the object it was rendered from (a catalogue, an
object's definition; None for none). Values are stored under the owner's identity, and the owner is kept with
them, so no newer object can take that identity while they live; a lookup answers only for the same object.
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
        self._values: dict[tuple[int, Hashable], tuple[object, ValueT]] = {}

    def get(self, owner: object, key: Hashable) -> ValueT | None:
        """The value stored under ``key`` for ``owner``, or None."""
        found = self._values.get((id(owner), key))
        return found[1] if found is not None and found[0] is owner else None

    def put(self, owner: object, key: Hashable, value: ValueT) -> None:
        if len(self._values) >= self._size:
            del self._values[next(iter(self._values))]
        self._values[(id(owner), key)] = (owner, value)

    def __len__(self) -> int:
        return len(self._values)
