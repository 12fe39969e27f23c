"""Salla's API rate limits, per store: a budget per minute by plan, then a slow leak; the customers endpoints'
own budget; and injected faults (a "storm" of 429s or 5xx).

The documented behaviour (shared/reference/salla.md): Plus 120, Pro 360, Special 720 requests a minute, "then
1 req/s"; headers ``X-RateLimit-Limit``, ``X-RateLimit-Remaining``, ``X-RateLimit-Reset`` (epoch seconds) on every
response and ``Retry-After`` on a 429 (error code ``too_many_requests``); customers endpoints 500 requests per 10
minutes. Modelled as: a window of 60 s opens at a store's first request; the window's budget is the plan's rate;
once it is spent, one request per ``1 / leak_per_second`` seconds still passes (the first one second after the
budget ran out); the window closes 60 s after it opened and the next request opens a fresh one. Rejected requests
spend nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["PLAN_RATES", "Decision", "Fault", "StoreLimits"]

PLAN_RATES = {"plus": 120, "pro": 360, "special": 720}
"""Requests per minute by Salla plan; any other plan (``basic``...) gets the Plus rate."""

_WINDOW = 60.0
_CUSTOMERS_WINDOW = 600.0


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset: int
    """Epoch seconds at which the current window ends."""
    retry_after: int = 0

    def headers(self) -> dict[str, str]:
        found = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }
        if not self.allowed:
            found["Retry-After"] = str(self.retry_after)
        return found


@dataclass
class Fault:
    """The next ``remaining`` requests answer ``status`` (a 429 with ``Retry-After: retry_after``)."""

    remaining: int
    status: int
    retry_after: int


@dataclass
class _Window:
    size: float
    limit: int
    opened: float | None = None
    used: int = 0

    def roll(self, now: float) -> bool:
        """Open a fresh window when none is open; True when it did."""
        if self.opened is None or now >= self.opened + self.size:
            self.opened, self.used = now, 0
            return True
        return False

    @property
    def ends(self) -> float:
        return (self.opened or 0.0) + self.size


class StoreLimits:
    """One store's budgets. Not thread-safe on its own: the sandbox holds its lock around every call."""

    def __init__(self, per_minute: int, customers_per_10_minutes: int = 500, leak_per_second: float = 1.0) -> None:
        self.minute = _Window(_WINDOW, per_minute)
        self.customers = _Window(_CUSTOMERS_WINDOW, customers_per_10_minutes)
        self.leak_per_second = leak_per_second
        self._next_leak: float | None = None
        self.faults: list[Fault] = []

    def configure(
        self,
        *,
        per_minute: int | None = None,
        customers_per_10_minutes: int | None = None,
        leak_per_second: float | None = None,
    ) -> None:
        if per_minute is not None:
            self.minute.limit = _positive(per_minute, "per_minute")
        if customers_per_10_minutes is not None:
            self.customers.limit = _positive(customers_per_10_minutes, "customers_per_10_minutes")
        if leak_per_second is not None:
            if leak_per_second < 0:
                raise ValueError("leak_per_second cannot be negative")
            self.leak_per_second = leak_per_second

    def take(self, now: float, *, customers: bool) -> Decision:
        """Spend one request of the budgets (both, for a customers endpoint) or say how long to wait."""
        if self.minute.roll(now):
            self._next_leak = None
        if customers:
            self.customers.roll(now)
            if self.customers.used >= self.customers.limit:
                return self._decision(now, allowed=False, wait=self.customers.ends - now)
        if self.minute.used < self.minute.limit:
            self.minute.used += 1
        else:
            if self._next_leak is None:  # the budget was lowered below what this window already spent
                self._next_leak = now + self._leak_interval()
            if not (self.leak_per_second > 0 and now >= self._next_leak):
                return self._decision(now, allowed=False, wait=min(self._next_leak, self.minute.ends) - now)
            self._next_leak = now + self._leak_interval()
        if self.minute.used >= self.minute.limit and self._next_leak is None:
            self._next_leak = now + self._leak_interval()
        if customers:
            self.customers.used += 1
        return self._decision(now, allowed=True)

    def peek(self, now: float) -> Decision:
        """The headers of a response that spends nothing (an injected fault)."""
        if self.minute.roll(now):
            self._next_leak = None
        return self._decision(now, allowed=True)

    def next_fault(self) -> Fault | None:
        while self.faults and self.faults[0].remaining <= 0:
            self.faults.pop(0)
        if not self.faults:
            return None
        self.faults[0].remaining -= 1
        return self.faults[0]

    def _leak_interval(self) -> float:
        return 1.0 / self.leak_per_second if self.leak_per_second > 0 else math.inf

    def _decision(self, now: float, *, allowed: bool, wait: float = 0.0) -> Decision:
        return Decision(
            allowed=allowed,
            limit=self.minute.limit,
            remaining=max(0, self.minute.limit - self.minute.used),
            reset=math.ceil(self.minute.ends),
            retry_after=0 if allowed else max(1, math.ceil(wait - 1e-9)),
        )


def _positive(value: int, name: str) -> int:
    if value < 1:
        raise ValueError(f"{name} must be at least 1")
    return value
