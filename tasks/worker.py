"""SAQ worker settings: which jobs exist, their timeouts and retries, and the worker's lifecycle."""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime

from redis.asyncio import Redis
from saq import CronJob, Worker

from app.registry import database as registry
from app.settings import Settings
from app.tenancy import runtime
from tasks import heartbeat, imports, provisioning, salla_inbox, salla_sync
from tasks.context import JobContext
from tasks.queue import create_queue

__all__ = ["create_worker"]


def create_worker(settings: Settings, *, concurrency: int = 10, handle_signals: bool = True) -> Worker[JobContext]:
    """Build the worker. ``handle_signals=False`` when something else (``wosool dev``) owns Ctrl-C."""
    registry.bind(settings.database_url)
    queue = create_queue(settings)

    redis = Redis.from_url(settings.redis_url, socket_connect_timeout=2, socket_timeout=5)

    async def startup(ctx: JobContext) -> None:
        await registry.open_pool(max_size=concurrency)
        await runtime.open_pools(settings)
        ctx["wosool"] = {
            "settings": settings,
            "redis": redis,
            "hostname": socket.gethostname(),
            "pid": os.getpid(),
            "started_at": datetime.now(UTC),
        }
        # Beat once straight away so readiness turns green without waiting for the first cron tick.
        await queue.enqueue("beat", timeout=4, retries=1, ttl=60)

    async def shutdown(ctx: JobContext) -> None:
        await runtime.close_pools()
        await registry.close_pool()
        await queue.disconnect()
        await redis.aclose()

    worker_class = Worker if handle_signals else _QuietWorker
    return worker_class(
        queue,
        # Each job's timeout and retries are set where it is enqueued (app.tenancy.services for provisioning).
        functions=[
            provisioning.provision_tenant,
            imports.run_import,
            imports.run_export,
            *salla_inbox.FUNCTIONS,
            *salla_sync.FUNCTIONS,
        ],
        cron_jobs=[
            # A missed beat is harmless (the next comes 5 s later): one attempt, 4 s at most.
            CronJob(heartbeat.beat, cron=heartbeat.HEARTBEAT_CRON, timeout=4, retries=1, ttl=60),
            # Idempotent and repeated every minute: one attempt each time.
            CronJob(provisioning.sweep_tenants, cron="* * * * *", timeout=50, retries=1, ttl=300),
            *salla_inbox.CRON_JOBS,
            *salla_sync.CRON_JOBS,
        ],
        concurrency=concurrency,
        startup=startup,
        shutdown=shutdown,
        shutdown_grace_period_s=2,  # SAQ waits this long on every stop, busy or not
    )


class _QuietWorker(Worker[JobContext]):
    """A worker that leaves SIGINT and SIGTERM to its host process."""

    SIGNALS = []
