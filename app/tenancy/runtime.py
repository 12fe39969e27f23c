"""The pools of this process: one `TenantPools`, opened with the web app or the worker."""

from __future__ import annotations

from app.settings import Settings
from app.tenancy.pools import PoolSettings, PoolStats, TenantPools

__all__ = ["close_pools", "current_stats", "forget_pool", "open_pools", "pools"]

_pools: TenantPools | None = None


async def open_pools(settings: Settings) -> TenantPools:
    global _pools
    if _pools is None:
        _pools = TenantPools(PoolSettings(budget=settings.tenant_pool_budget))
        await _pools.start()
    return _pools


def current_stats() -> PoolStats | None:
    """The pools' counters, or None where no pools are open (the CLI)."""
    return None if _pools is None else _pools.stats()


def pools() -> TenantPools:
    if _pools is None:
        raise RuntimeError("tenant pools are not open in this process")
    return _pools


async def forget_pool(tenant_id: str) -> None:
    """Close a tenant's pool (after its in-flight work) before its database is dropped."""
    if _pools is not None:
        await _pools.close_tenant(tenant_id)


async def close_pools() -> None:
    global _pools
    if _pools is not None:
        await _pools.close()
        _pools = None
