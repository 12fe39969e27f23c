"""How Salla writes values: money objects, PHP-style date objects, webhook ``created_at`` strings; and the
small deterministic random number generator the generated stores are made from."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, TypeVar

__all__ = [
    "RIYADH",
    "Rng",
    "amount",
    "created_at_text",
    "local_text",
    "money",
    "salla_date",
]

T = TypeVar("T")

RIYADH = timezone(timedelta(hours=3), "Asia/Riyadh")
"""Salla's stores' local time (Saudi Arabia has no daylight saving)."""

_MASK = (1 << 64) - 1


def _mix(value: int) -> int:
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK
    return value ^ (value >> 31)


class Rng:
    """SplitMix64 seeded from a few integers: one cheap, independent stream per generated record, so any record
    can be produced on its own, in any order, always the same (``random.Random`` costs more to seed)."""

    __slots__ = ("_state",)

    def __init__(self, *keys: int) -> None:
        state = 0x9E3779B97F4A7C15
        for key in keys:
            state = _mix(((state ^ (key & _MASK)) + 0x9E3779B97F4A7C15) & _MASK)
        self._state = state

    def next(self) -> int:
        self._state = value = (self._state + 0x9E3779B97F4A7C15) & _MASK
        value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK  # _mix, inlined: this is the hot path
        value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK
        return value ^ (value >> 31)

    def below(self, bound: int) -> int:
        return self.next() % bound

    def between(self, low: int, high: int) -> int:
        """An integer in [low, high]."""
        return low + self.below(high - low + 1)

    def chance(self, probability: float) -> bool:
        return self.unit() < probability

    def unit(self) -> float:
        """A float in [0, 1)."""
        return (self.next() >> 11) / float(1 << 53)

    def pick(self, items: Sequence[T]) -> T:
        return items[self.below(len(items))]

    def weighted(self, weights: Sequence[int]) -> int:
        """An index into ``weights``, chosen in proportion to them."""
        roll = self.below(sum(weights))
        for index, weight in enumerate(weights):
            if roll < weight:
                return index
            roll -= weight
        return len(weights) - 1


def amount(minor: int) -> int | float:
    """Halalas as Salla writes an amount: a whole number when it has no fraction (120), else two decimals (104.35)."""
    whole, fraction = divmod(minor, 100)
    return whole if fraction == 0 else round(minor / 100, 2)


def money(minor: int, currency: str = "SAR") -> dict[str, Any]:
    return {"amount": amount(minor), "currency": currency}


def local_text(moment: float) -> str:
    """Epoch seconds as Riyadh wall-clock time, ``2024-03-10 14:22:05``."""
    return datetime.fromtimestamp(int(moment), RIYADH).strftime("%Y-%m-%d %H:%M:%S")


def salla_date(moment: float) -> dict[str, Any]:
    """A PHP DateTime as Salla serialises it: ``{date: "2024-03-10 14:22:05.000000", timezone_type: 3, ...}``."""
    return {"date": f"{local_text(moment)}.000000", "timezone_type": 3, "timezone": "Asia/Riyadh"}


def created_at_text(moment: float, style: str = "salla") -> str:
    """A webhook envelope's ``created_at``; Salla has sent each of these styles."""
    if style == "salla":
        return local_text(moment)
    local = datetime.fromtimestamp(int(moment), RIYADH)
    if style == "js":
        return local.strftime("%a %b %d %Y %H:%M:%S GMT+0300")
    if style == "iso":
        return datetime.fromtimestamp(int(moment), UTC).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    raise ValueError(f"unknown created_at style {style!r}: use 'salla', 'js' or 'iso'")
