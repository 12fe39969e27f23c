"""Rules for liveness, readiness and worker heartbeats."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis

from app.ops import heartbeats
from app.registry import database as registry

__all__ = ["Check", "Readiness", "check_readiness", "record_heartbeat"]

CHECK_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True)
class Check:
    """The result of probing one dependency."""

    ok: bool
    latency_ms: float
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Readiness:
    checks: dict[str, Check]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks.values())

    @property
    def failing(self) -> list[str]:
        return [name for name, check in self.checks.items() if not check.ok]


async def check_readiness(redis: Redis, *, heartbeat_max_age: float) -> Readiness:
    """Probe the registry database, Redis and the worker heartbeat side by side."""
    names = ("database", "redis", "worker")
    results = await asyncio.gather(
        _timed(lambda: registry.ping(CHECK_TIMEOUT_SECONDS)),
        _timed(lambda: _ping_redis(redis)),
        _timed(lambda: _heartbeat_age(heartbeat_max_age)),
    )
    return Readiness(checks=dict(zip(names, results, strict=True)))


async def record_heartbeat(*, worker_id: str, hostname: str, pid: int, queue: str, started_at: datetime) -> None:
    await heartbeats.save_beat(
        worker_id=worker_id,
        hostname=hostname,
        pid=pid,
        queue=queue,
        started_at=started_at,
        beat_at=datetime.now(UTC),
    )


async def _ping_redis(redis: Redis) -> None:
    await redis.ping()


async def _heartbeat_age(max_age: float) -> dict[str, Any]:
    newest = await heartbeats.newest_beat()
    if newest is None:
        raise LookupError("no worker has reported a heartbeat yet (is `wosool worker` running?)")
    age = (datetime.now(UTC) - newest).total_seconds()
    if age > max_age:
        raise TimeoutError(f"newest worker heartbeat is {age:.0f} s old (limit {max_age:.0f} s)")
    return {"heartbeat_age_seconds": round(age, 1)}


async def _timed(probe: Callable[[], Awaitable[dict[str, Any] | None]]) -> Check:
    started = time.perf_counter()
    try:
        extra = await asyncio.wait_for(probe(), timeout=CHECK_TIMEOUT_SECONDS)
    except Exception as error:  # a readiness probe reports every failure instead of raising
        detail = str(error) or type(error).__name__
        if isinstance(error, asyncio.TimeoutError) and not str(error):
            detail = f"no answer within {CHECK_TIMEOUT_SECONDS:.0f} s"
        return Check(ok=False, latency_ms=_ms_since(started), detail=f"{type(error).__name__}: {detail}")
    return Check(ok=True, latency_ms=_ms_since(started), extra=extra or {})


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
