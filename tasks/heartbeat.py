"""The worker heartbeat: a real job, scheduled by cron every few seconds, that readiness reads."""

from __future__ import annotations

from app.ops.services import record_heartbeat
from tasks.context import JobContext

__all__ = ["HEARTBEAT_CRON", "beat"]

HEARTBEAT_CRON = "* * * * * */5"
"""Every five seconds (croniter's sixth field is seconds)."""


async def beat(ctx: JobContext) -> None:
    worker = ctx["worker"]
    info = ctx["wosool"]
    await record_heartbeat(
        worker_id=worker.id,
        hostname=info["hostname"],
        pid=info["pid"],
        queue=worker.queue.name,
        started_at=info["started_at"],
    )
