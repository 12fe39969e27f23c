"""One request budget per Salla store, shared by every process through Redis, so a healthy sync never sees a 429.

Salla limits each store's API calls by its plan (leaky bucket: Plus 120, Pro 360, Special 720 a minute) and the
customers endpoints further to 500 per 10 minutes. A budget is a generic cell rate algorithm (a leaky bucket
that hands out reservations): each request reserves the next slot of each budget it draws on in one atomic Redis
call and sleeps until it, so waiting costs no polling and N processes together never exceed the rate.

Salla's answers correct the budget. ``X-RateLimit-Limit`` replaces the plan's default rate; ``-Remaining`` and
``-Reset`` are a hard guard: at most that many more requests before that moment (minus the requests reserved
since the answered one, which the server may not have counted yet). A 429's ``Retry-After`` closes the budget
until then.
"""

from __future__ import annotations

import asyncio
import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from redis.asyncio import Redis

__all__ = [
    "CUSTOMERS_LIMIT",
    "DEFAULT_PLAN_LIMIT",
    "PLAN_LIMITS",
    "BucketLimit",
    "RateBudget",
    "Reservation",
    "buckets_for",
    "plan_limit",
]


@dataclass(frozen=True)
class BucketLimit:
    name: str
    requests: int
    per_seconds: float
    burst_fraction: float = 0.1
    """How much of the budget may go at once before pacing sets in (a tenth: 12 requests on Plus)."""


PLAN_LIMITS = {"plus": 120, "pro": 360, "special": 720}
"""Requests per minute by Salla plan."""
DEFAULT_PLAN_LIMIT = 120
"""An unknown plan gets the smallest limit until Salla's headers say otherwise."""
CUSTOMERS_LIMIT = BucketLimit("customers", 480, 600.0, burst_fraction=10 / 480)
"""The customers endpoints' own limit (500 per 10 minutes), on top of the store's. No header reports what is left
of it, so it is paced with headroom: any 10 minutes then hold at most 10 + 480 requests, never more than 500."""
RESET_MARGIN_SECONDS = 1.0
"""Added to Salla's reset time: it is whole seconds (perhaps rounded down), and clocks disagree a little."""


def plan_limit(plan: str) -> BucketLimit:
    """The store-wide limit of a Salla plan (``plus``, ``pro``, ``special``; ``Pro Plan`` works too)."""
    words = plan.lower()
    for name, per_minute in sorted(PLAN_LIMITS.items(), key=lambda item: -item[1]):
        if name in words:
            return BucketLimit("store", per_minute, 60.0)
    return BucketLimit("store", DEFAULT_PLAN_LIMIT, 60.0)


def buckets_for(path: str, plan: str, customers: BucketLimit = CUSTOMERS_LIMIT) -> tuple[BucketLimit, ...]:
    """The budgets a request to ``path`` draws from: the store's, and the customers' for ``/customers...``."""
    bare = "/" + path.split("?", 1)[0].strip("/")
    if bare == "/customers" or bare.startswith("/customers/"):
        return (plan_limit(plan), customers)
    return (plan_limit(plan),)


@dataclass(frozen=True)
class Reservation:
    """A slot taken: how long the request waited for it, and the store budget's sequence number of the slot
    (for `RateBudget.observe`)."""

    waited_seconds: float
    sequence: int


# GCRA with reservations, then Salla's hard guard. State of a bucket (a hash): limit, tat (theoretical arrival
# time), remaining/reset (Salla's guard), blocked_until (a 429), seq (reservations made). Redis's clock, seconds.
# ARGV: reset margin, default limit, period, burst fraction. Returns {seconds to wait, sequence number}.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local key = KEYS[1]
local margin = tonumber(ARGV[1])
local f = redis.call('HMGET', key, 'limit', 'tat', 'remaining', 'reset', 'blocked_until')
local limit = tonumber(f[1]) or tonumber(ARGV[2])
local period = tonumber(ARGV[3])
local interval = period / limit
local burst = math.max(1, math.floor(limit * tonumber(ARGV[4]) + 0.000001))
local tat = math.max(tonumber(f[2]) or now, now)
local remaining, reset, blocked = tonumber(f[3]), tonumber(f[4]), tonumber(f[5]) or 0
local start = math.max(now, tat - interval * (burst - 1), blocked)
if remaining and reset and remaining <= 0 and start < reset + margin then
  start = reset + margin
end
tat = math.max(tat, start) + interval
redis.call('HSET', key, 'tat', tostring(tat))
if remaining and reset and start < reset then
  redis.call('HSET', key, 'remaining', tostring(remaining - 1))
elseif remaining or reset then
  redis.call('HDEL', key, 'remaining', 'reset')
end
local seq = redis.call('HINCRBY', key, 'seq', 1)
redis.call('EXPIRE', key, math.ceil(math.max(tat, blocked, reset or 0) - now + 2 * period))
return {tostring(start - now), seq}
"""

# Salla's answer to the request that got sequence number ARGV[4]: ARGV limit, remaining, reset ('' when absent).
_OBSERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local key = KEYS[1]
local limit = tonumber(ARGV[1])
local remaining = tonumber(ARGV[2])
local reset = tonumber(ARGV[3])
local my_seq = tonumber(ARGV[4])
if limit and limit > 0 then
  redis.call('HSET', key, 'limit', tostring(limit))
end
if not (remaining and reset) then
  return 0
end
if reset < 1000000000 then
  reset = now + reset
end
if reset <= now then
  return 0
end
local f = redis.call('HMGET', key, 'remaining', 'reset', 'seq')
local later = math.max(0, (tonumber(f[3]) or my_seq) - my_seq)
local candidate = remaining - later
local stored_remaining = tonumber(f[1])
local stored_reset = tonumber(f[2])
if stored_reset and stored_remaining and math.abs(stored_reset - reset) < 0.5 then
  candidate = math.min(candidate, stored_remaining)
elseif stored_reset and reset < stored_reset then
  return 0
end
redis.call('HSET', key, 'remaining', tostring(candidate), 'reset', tostring(reset))
local ttl = redis.call('TTL', key)
local wanted = math.ceil(reset - now) + 60
if ttl < wanted then
  redis.call('EXPIRE', key, wanted)
end
return 1
"""

# A 429: nobody uses these buckets before ARGV[1] seconds from now.
_BLOCK = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local until_ = now + tonumber(ARGV[1])
for _, key in ipairs(KEYS) do
  local blocked = tonumber(redis.call('HGET', key, 'blocked_until')) or 0
  if until_ > blocked then
    redis.call('HSET', key, 'blocked_until', tostring(until_))
  end
  local ttl = redis.call('TTL', key)
  local wanted = math.ceil(tonumber(ARGV[1])) + 120
  if ttl < wanted then
    redis.call('EXPIRE', key, wanted)
  end
end
return 1
"""


class RateBudget:
    """The request budget of one store. Cheap to create; the state lives in Redis.

    ``customers`` is the customers endpoints' limit (Salla's unless a test scales it down)."""

    def __init__(
        self, redis: Redis, store_id: uuid.UUID, plan: str, *, customers: BucketLimit = CUSTOMERS_LIMIT
    ) -> None:
        self._redis = redis
        self._store_id = store_id
        self._plan = plan
        self._customers = customers
        self._reserve = redis.register_script(_RESERVE)
        self._observe = redis.register_script(_OBSERVE)
        self._block = redis.register_script(_BLOCK)

    def key(self, bucket: BucketLimit) -> str:
        return f"wosool:salla:budget:{self._store_id}:{bucket.name}"

    async def acquire(self, path: str) -> Reservation:
        """Wait (asyncio.sleep) for a slot in every budget a request to ``path`` draws on.

        The customers' budget first, the store's last: a customers request waiting minutes for its own budget
        holds no slot of the store's meanwhile, and the store's guard is checked just before sending."""
        store_bucket, *others = buckets_for(path, self._plan, self._customers)
        waited = 0.0
        for bucket in [*others, store_bucket]:
            wait, sequence = await self._reserve_in(bucket)
            if wait > 0:
                await asyncio.sleep(wait)
                waited += wait
        return Reservation(waited_seconds=waited, sequence=sequence)

    async def _reserve_in(self, bucket: BucketLimit) -> tuple[float, int]:
        args = [RESET_MARGIN_SECONDS, bucket.requests, bucket.per_seconds, bucket.burst_fraction]
        reply = await self._reserve(keys=[self.key(bucket)], args=args)
        return max(0.0, float(reply[0])), int(reply[1])

    async def observe(self, path: str, reservation: Reservation, status: int, headers: Mapping[str, str]) -> None:
        """Correct the store's budget from Salla's ``X-RateLimit-*`` headers on the answer to ``reservation``.

        A 429's remaining and reset are left out: its Retry-After says when to come back (see `block`)."""
        limit = headers.get("x-ratelimit-limit", "")
        remaining = headers.get("x-ratelimit-remaining", "") if status != 429 else ""
        reset = headers.get("x-ratelimit-reset", "") if status != 429 else ""
        if not (limit or remaining or reset):
            return
        store_bucket = buckets_for(path, self._plan, self._customers)[0]
        await self._observe(
            keys=[self.key(store_bucket)],
            args=[_number(limit), _number(remaining), _number(reset), reservation.sequence],
        )

    async def block(self, path: str, seconds: float, headers: Mapping[str, str]) -> None:
        """Salla answered 429: no request that draws on the exhausted budget leaves before ``seconds`` from now,
        in any process. The store's budget unless the store still had requests left (``X-RateLimit-Remaining``
        above 0) on a customers endpoint: then only the customers' budget is spent."""
        store_bucket, *others = buckets_for(path, self._plan, self._customers)
        remaining = _number(headers.get("x-ratelimit-remaining", ""))
        spent = others if others and remaining and float(remaining) > 0 else [store_bucket]
        await self._block(keys=[self.key(bucket) for bucket in spent], args=[max(0.0, seconds)])


def _number(value: str) -> str:
    """A header's number as text for Lua, or '' when it is not a finite one."""
    try:
        number = float(value.strip())
    except ValueError:
        return ""
    return repr(number) if math.isfinite(number) else ""
