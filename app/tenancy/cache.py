"""Tenant lookups cached in Redis, invalidated explicitly whenever a tenant changes.

Every web request resolves its tenant, so the lookup must not cost a registry query. The cached record holds
no plaintext secret (the role password stays Fernet-encrypted). Unknown slugs are cached briefly too, so a
flood of random slugs does not reach PostgreSQL; creating a tenant clears its slug's entry.
"""

from __future__ import annotations

import json

from redis.asyncio import Redis

from app.tenancy.repository import TenantRecord

__all__ = ["cached_tenant", "forget_tenant", "remember_tenant", "remember_unknown"]

_TTL_SECONDS = 300
_UNKNOWN_TTL_SECONDS = 30
_UNKNOWN = "unknown"


def _key(slug: str) -> str:
    return f"wosool:tenant:slug:{slug}"


async def cached_tenant(redis: Redis, slug: str) -> TenantRecord | str | None:
    """The cached tenant, ``"unknown"`` if known not to exist, or None on a cache miss."""
    raw = await redis.get(_key(slug))
    if raw is None:
        return None
    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    if text == _UNKNOWN:
        return _UNKNOWN
    return TenantRecord.from_cache(json.loads(text))


async def remember_tenant(redis: Redis, tenant: TenantRecord) -> None:
    await redis.set(_key(tenant.slug), json.dumps(tenant.to_cache()), ex=_TTL_SECONDS)


async def remember_unknown(redis: Redis, slug: str) -> None:
    await redis.set(_key(slug), _UNKNOWN, ex=_UNKNOWN_TTL_SECONDS)


async def forget_tenant(redis: Redis, slug: str) -> None:
    await redis.delete(_key(slug))
