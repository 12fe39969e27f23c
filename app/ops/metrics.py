"""Wosool's own Prometheus metrics, next to Litestar's request metrics on ``/metrics``."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import REGISTRY
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from app.accounts import memberships
from app.lib.remembered_sessions import remembered_sessions
from app.tenancy import runtime

__all__ = ["register_metrics"]

_GAUGES = {
    "open_pools": "Tenant connection pools open in this process.",
    "open_connections": "Connections this process holds to tenant databases (never above TENANT_POOL_BUDGET).",
}
_COUNTERS = {
    "hits": "Tenant requests that found their pool open.",
    "misses": "Tenant requests that had to open a pool.",
    "evictions": "Tenant pools closed to make room or because they sat idle.",
    "waits": "Tenant requests that waited for a connection because the budget was full.",
    "timeouts": "Tenant requests that gave up waiting (answered 503).",
}


class TenantPoolCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        stats = runtime.current_stats()
        if stats is None:
            return
        for name, documentation in _GAUGES.items():
            yield GaugeMetricFamily(f"wosool_tenant_pool_{name}", documentation, value=getattr(stats, name))
        for name, documentation in _COUNTERS.items():
            yield CounterMetricFamily(f"wosool_tenant_pool_{name}", documentation, value=getattr(stats, name))


class NoticesCollector(Collector):
    """Whether this process hears the notices that let it remember memberships and sessions: while it does not, it
    asks the registry and Redis on every request (correct, and slower)."""

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "wosool_membership_notices_listening",
            "1 while this process hears the registry's membership notices (and so remembers memberships).",
            value=float(memberships.is_listening()),
        )
        yield GaugeMetricFamily(
            "wosool_session_notices_listening",
            "1 while this process hears the session notices in Redis (and so remembers sessions).",
            value=float(remembered_sessions.listening),
        )


_registered = False


def register_metrics() -> None:
    """Register once per process (the registry is global; apps are built many times in tests)."""
    global _registered
    if not _registered:
        REGISTRY.register(TenantPoolCollector())
        REGISTRY.register(NoticesCollector())
        _registered = True
