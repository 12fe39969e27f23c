"""What a process remembers, bounded in number.

`Remembered`: rendered HTML, by everything it was made from. Used for what every page shows again and again (a
list's rows, the dashboard's sidebar, a record page's blank forms): each is a pure function of its key and of its
*owner*, the object it was rendered from (a catalogue, an object's definition; None for none). Values are stored
under the owner's identity, and the owner is kept with them, so no newer object can take that identity while they
live; a lookup answers only for the same object.

`Expiring`: copies of what lives elsewhere (a session in Redis, a membership or tenant in the registry), each until
a time, forgotten when told it changed. Its `changes` count lets a reader that read the original while something
was forgotten leave what it read unremembered.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["MISSING", "Expiring", "Remembered"]

KeyT = TypeVar("KeyT", bound=Hashable)
ValueT = TypeVar("ValueT")


class _Missing(enum.Enum):
    MISSING = "missing"


MISSING = _Missing.MISSING
"""What `Expiring.get` answers for a key it does not remember (None may be a remembered value)."""


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


class Expiring(Generic[KeyT, ValueT]):
    """At most ``size`` values by key, each until a time (``time.monotonic()``), the oldest forgotten first."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._values: dict[KeyT, tuple[float, ValueT]] = {}
        self.changes = 0
        """How many times something was forgotten: compare before and after reading the original."""

    def get(self, key: KeyT, now: float) -> ValueT | _Missing:
        found = self._values.get(key)
        return found[1] if found is not None and found[0] > now else MISSING

    def put(self, key: KeyT, value: ValueT, until: float) -> None:
        self._values.pop(key, None)
        if len(self._values) >= self._size:
            del self._values[next(iter(self._values))]
        self._values[key] = (until, value)

    def forget(self, key: KeyT) -> None:
        self.changes += 1
        self._values.pop(key, None)

    def forget_where(self, matches: Callable[[KeyT, ValueT], bool]) -> None:
        self.changes += 1
        for key in [key for key, (_until, value) in self._values.items() if matches(key, value)]:
            del self._values[key]

    def clear(self) -> None:
        self.changes += 1
        self._values.clear()

    def __len__(self) -> int:
        return len(self._values)
