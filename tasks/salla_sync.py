"""Salla jobs (sync); the rules live in app.salla."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import structlog
from saq import CronJob, Job

from app.salla import sync, sync_store, tokens
from app.salla.client import SallaApiError
from app.tenancy.pools import PoolBudgetTimeout
from tasks.context import JobContext

__all__ = ["CRON_JOBS", "FUNCTIONS", "refresh_salla_tokens", "resync_salla_stores", "sync_salla_store"]

log = structlog.get_logger("wosool.tasks.salla_sync")

FUNCTIONS: list[Any] = []
CRON_JOBS: list[Any] = []


async def refresh_salla_tokens(ctx: JobContext) -> int:
    """Every hour: refresh the tokens of stores whose access token expires within a day (so about 24 runs get
    a chance before it does). Idempotent: each store's refresh takes its lock and skips a fresh token."""
    facts = ctx["wosool"]
    refreshed = await tokens.refresh_expiring(facts["settings"], facts["redis"])
    if refreshed:
        log.info("refreshed salla tokens", stores=refreshed)
    return refreshed


# Hourly at :17 (not on the hour, when everything else runs). 10 minutes suffice for thousands of stores at 4 at
# a time; two attempts so a worker lost mid-run is made good by the timeout sweep (a re-run skips fresh tokens).
CRON_JOBS.append(CronJob(refresh_salla_tokens, cron="17 * * * *", timeout=600, retries=2, ttl=3600))


# --- the full sync (app.salla.sync) -------------------------------------------------------------------------------

SYNC_TRANSIENT_ERRORS = (
    SallaApiError,
    sync.CrmNotReady,
    PoolBudgetTimeout,
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
)


async def sync_salla_store(ctx: JobContext, *, store_id: str) -> None:
    """One store's full sync from its checkpoint (enqueued by `app.salla.sync.start_full_sync` with its timeout,
    heartbeat and retries). Transient failures raise, so SAQ retries from the checkpoint, until the last attempt,
    which leaves the sync ``failed`` with the reason (the merchant page shows it; "Sync now" starts again)."""
    facts = ctx["wosool"]
    job = ctx["job"]
    store = uuid.UUID(store_id)
    async with _beating(job):
        try:
            await sync.run_full_sync(store, facts["settings"], facts["redis"])
        except SYNC_TRANSIENT_ERRORS as error:
            reason = f"{type(error).__name__}: {error}"
            if job.attempts < job.retries:
                log.warning("salla sync will retry", store_id=store_id, attempt=job.attempts, error=reason)
                await sync_store.note_error_everywhere(store, f"Retrying after a problem: {reason}")
                raise
            await sync_store.fail_unfinished(store, f"Gave up after {job.attempts} attempts: {reason}")
        except Exception as error:
            # The merchant page shows the reason: the error's kind only; the details are in the log.
            log.exception("salla sync failed", store_id=store_id)
            await sync_store.fail_unfinished(store, f"Failed on an unexpected error ({type(error).__name__}).")


@contextlib.asynccontextmanager
async def _beating(job: Job) -> AsyncIterator[None]:
    """Touch the job every few seconds while it runs: a worker that dies stops beating, and SAQ's sweep retries
    the job once the heartbeat is older than the job's ``heartbeat`` (the sync then resumes from its checkpoint)."""

    async def beat() -> None:
        while True:
            await asyncio.sleep(sync.HEARTBEAT_SECONDS)
            with contextlib.suppress(Exception):
                await job.update()

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def resync_salla_stores(ctx: JobContext) -> int:
    """Hourly: the daily full re-sync of the stores whose slot is this hour (app.salla.sync.resync_due_stores)."""
    enqueued = await sync.resync_due_stores(ctx["worker"].queue)
    if enqueued:
        log.info("daily salla re-sync enqueued", stores=enqueued)
    return enqueued


FUNCTIONS.append(sync_salla_store)
# Enqueueing is idempotent (one job key per store): a second attempt after a lost worker enqueues nothing twice.
CRON_JOBS.append(CronJob(resync_salla_stores, cron=sync.DAILY_RESYNC_CRON, timeout=300, retries=2, ttl=3600))
