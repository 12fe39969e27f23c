"""Salla jobs (inbox); the rules live in app.salla."""

from __future__ import annotations

from typing import Any

import structlog
from saq import CronJob

from app.salla import inbox
from app.salla.events import EventContext
from tasks.context import JobContext

__all__ = ["CRON_JOBS", "FUNCTIONS", "HandlerFailed", "apply_salla_webhook", "purge_salla_inbox", "sweep_salla_inbox"]

log = structlog.get_logger("wosool.tasks.salla_inbox")


class HandlerFailed(Exception):
    """Raised so SAQ retries the job with backoff; the handler's own error is in the inbox row."""


async def apply_salla_webhook(ctx: JobContext, *, inbox_id: int) -> str:
    """Apply one inbox delivery (enqueued by `app.salla.inbox.request_apply` with its timeout and retries)."""
    facts = ctx["wosool"]
    context = EventContext(settings=facts["settings"], redis=facts["redis"], queue=ctx["worker"].queue)
    outcome = await inbox.apply(inbox_id, context)
    if outcome == "retry":
        # Not the handler's exception: SAQ would copy its traceback, with whatever it holds, into Redis and logs.
        raise HandlerFailed(f"salla webhook {inbox_id}: the handler failed; see the inbox row's last_error")
    return outcome


async def sweep_salla_inbox(ctx: JobContext) -> int:
    """Every minute: re-enqueue deliveries still pending after the grace period (Redis emptied, worker crashed)."""
    enqueued = await inbox.sweep(ctx["worker"].queue)
    if enqueued:
        log.info("re-enqueued pending salla webhooks", count=enqueued)
    return enqueued


async def purge_salla_inbox(ctx: JobContext) -> int:
    """Once a day: forget applied deliveries older than 30 days (they hold customers' personal data)."""
    deleted = await inbox.purge_processed()
    if deleted:
        log.info("purged old salla webhooks", count=deleted)
    return deleted


FUNCTIONS: list[Any] = [apply_salla_webhook]
CRON_JOBS: list[Any] = [
    # Idempotent and repeated every minute: one attempt each time; a batch of SWEEP_BATCH enqueues fits easily.
    # ttl=-1: the finished run is deleted, not kept with SETEX (deprecated in redis-py 8).
    CronJob(sweep_salla_inbox, cron="* * * * *", timeout=50, retries=1, ttl=-1),
    # Daily at 03:23; a missed day is caught up by the next (it deletes everything old enough).
    CronJob(purge_salla_inbox, cron="23 3 * * *", timeout=600, retries=1, ttl=-1),
]
