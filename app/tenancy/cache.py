"""Tenant lookups cached in Redis, invalidated explicitly whenever a tenant changes.

Every web request resolves its tenant, so the lookup must not cost a registry query. The cached record holds
no plaintext secret (the role password stays Fernet-encrypted). Unknown slugs are cached briefly too, so a
flood of random slugs does not reach PostgreSQL; creating a tenant clears its slug's entry.

A reader that fills the cache could otherwise race a writer: read the old row, the writer commits and clears
the cache, then the reader stores the old row for the whole TTL. So each slug has a generation number that
every change increments; a reader stores what it read only if the generation is still the one it saw
before reading.

In front of Redis, each process remembers an *active* tenant (every dashboard request resolves its tenant, and a
Redis round trip costs the web process more than the rest of the lookup). A change made by this process clears its
memo at once. A web process hears the registry's notices (app/registry/changes.py: a trigger notifies
``tenant:<id>`` when any column of the tenant's row changes), forgets the tenant when one arrives, and remembers
for `HEARD_MEMO_SECONDS`; a process that hears nothing remembers for `MEMO_SECONDS`, so a change made elsewhere
reaches it within that. The notice can arrive before the process that made the change has cleared Redis; so for
`SETTLE_SECONDS` after a notice the tenant is remembered for `MEMO_SECONDS` only, as if nothing were heard. A tenant
in any other status (provisioning, suspended...) is always read from Redis, so a tenant becoming ready shows at
once.
"""

from __future__ import annotations

import json
import time
import uuid

from redis.asyncio import Redis

from app.lib.remembered import MISSING, Expiring
from app.registry.changes import access_notices
from app.tenancy.repository import TenantRecord

__all__ = [
    "HEARD_MEMO_SECONDS",
    "MEMO_SECONDS",
    "SETTLE_SECONDS",
    "cached_tenant",
    "forget_everything_here",
    "forget_tenant",
    "generation",
    "remember_tenant",
    "remember_unknown",
]

MEMO_SECONDS = 1.0
"""How long a process that hears no registry notices answers for an active tenant without asking Redis: how late a
suspension made elsewhere reaches it."""
HEARD_MEMO_SECONDS = 60.0
"""The same for a process that hears them (a change is forgotten when its notice arrives)."""
SETTLE_SECONDS = 5.0
"""After a notice about a tenant, how long it is remembered for `MEMO_SECONDS` only (Redis may still hold the old
row until the process that changed it has cleared it)."""
_MEMO_LIMIT = 10_000
_memo: Expiring[str, TenantRecord] = Expiring(_MEMO_LIMIT)
"""slug -> tenant."""
_settling: dict[uuid.UUID, float] = {}
"""tenant id -> until when it is remembered for `MEMO_SECONDS` only."""

_TTL_SECONDS = 300
_UNKNOWN_TTL_SECONDS = 30
_GENERATION_TTL_SECONDS = 86_400
_UNKNOWN = "unknown"

# KEYS[1] generation, KEYS[2] entry; ARGV[1] generation seen before reading, ARGV[2] value, ARGV[3] TTL.
_SET_IF_UNCHANGED = """
local current = redis.call('GET', KEYS[1]) or ''
if current == ARGV[1] then
  redis.call('SET', KEYS[2], ARGV[2], 'EX', tonumber(ARGV[3]))
  return 1
end
return 0
"""


def _key(slug: str) -> str:
    return f"wosool:tenant:slug:{slug}"


def _generation_key(slug: str) -> str:
    return f"wosool:tenant:generation:{slug}"


async def cached_tenant(redis: Redis, slug: str) -> TenantRecord | str | None:
    """The cached tenant, ``"unknown"`` if known not to exist, or None on a cache miss."""
    now = time.monotonic()
    memo = _memo.get(slug, now)
    if memo is not MISSING:
        return memo
    raw = await redis.get(_key(slug))
    if raw is None:
        return None
    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    if text == _UNKNOWN:
        return _UNKNOWN
    tenant = TenantRecord.from_cache(json.loads(text))
    if tenant.status == "active":
        _memo.put(slug, tenant, now + _memo_seconds(tenant, now))
    return tenant


def _memo_seconds(tenant: TenantRecord, now: float) -> float:
    if not access_notices.hearing:
        return MEMO_SECONDS
    settles_at = _settling.get(tenant.id)
    if settles_at is None:
        return HEARD_MEMO_SECONDS
    if settles_at > now:
        return MEMO_SECONDS
    del _settling[tenant.id]
    return HEARD_MEMO_SECONDS


async def generation(redis: Redis, slug: str) -> str:
    """Read before reading the registry; hand it to `remember_tenant` / `remember_unknown`."""
    raw = await redis.get(_generation_key(slug))
    return "" if raw is None else raw.decode() if isinstance(raw, bytes) else str(raw)


async def remember_tenant(redis: Redis, tenant: TenantRecord, seen_generation: str) -> None:
    await _set_if_unchanged(redis, tenant.slug, json.dumps(tenant.to_cache()), _TTL_SECONDS, seen_generation)


async def remember_unknown(redis: Redis, slug: str, seen_generation: str) -> None:
    await _set_if_unchanged(redis, slug, _UNKNOWN, _UNKNOWN_TTL_SECONDS, seen_generation)


async def forget_tenant(redis: Redis, slug: str) -> None:
    """Call after the change is committed."""
    _memo.forget(slug)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.incr(_generation_key(slug))
        pipe.expire(_generation_key(slug), _GENERATION_TTL_SECONDS)
        pipe.delete(_key(slug))
        await pipe.execute()


def forget_everything_here() -> None:
    """Drop this process's memo (when the Redis behind it is emptied or replaced, as between tests, or when
    registry notices may have been missed)."""
    _memo.clear()
    _settling.clear()


def _tenant_changed(tenant_id: uuid.UUID) -> None:
    """A registry notice: forget the tenant, and remember it only briefly while Redis may still hold the old row."""
    _memo.forget_where(lambda _slug, tenant: tenant.id == tenant_id)
    if len(_settling) >= _MEMO_LIMIT:
        _settling.clear()  # only shortens how long some tenants are remembered
    _settling[tenant_id] = time.monotonic() + SETTLE_SECONDS


access_notices.on_change("tenant", _tenant_changed)
access_notices.on_lost(forget_everything_here)


async def _set_if_unchanged(redis: Redis, slug: str, value: str, ttl: int, seen_generation: str) -> None:
    await redis.eval(_SET_IF_UNCHANGED, 2, _generation_key(slug), _key(slug), seen_generation, value, str(ttl))
