"""The full sync of a Salla store into its CRM: customers, products and orders, page by page at the store's rate
limit, resumable from a checkpoint, watched by the merchant page.

- `start_full_sync` resets the store's checkpoints (``salla_syncs``) and enqueues ONE job for the store; the job's
  SAQ key is per store, so asking again while the job waits only resets its checkpoints, and while it runs changes
  nothing.
- The job (`run_full_sync`) pages each resource with ``per_page=60`` through `app.salla.client.SallaClient` (which
  paces every request through the store's shared budget and rides out 429s), writes each page through the CRM
  engine (`app.crm.sources.upsert_records`, one statement per page), and only then commits the checkpoint
  (next page, rows done, total, requests, throttled). A worker killed anywhere resumes at the first page not
  recorded: a page stored but not yet recorded is fetched and upserted again, which changes nothing.
- Order: products before orders, so that an order's items find their products. Customers go alongside (lane
  `LANES`): Salla limits the customers endpoints on their own (500 requests per 10 minutes, against 720 a minute
  for the whole store on the Special plan), so customers are the slow part of every big store, and paging them
  while the products and orders use the rest of the store's budget saves that time. An order stored before its
  customer keeps the customer's Salla id and is linked the moment the customer is written (`app.crm.sources`).
- Salla has no "updated since" filter, so paging is by offset: a record added or removed while a sync runs can
  shift a page boundary (a record read twice is harmless; one skipped is caught by the webhooks and by the daily
  re-sync, `resync_due_stores`).
- The sync stops cleanly, recording why, when the store is uninstalled (`cancel_syncs`), needs to be authorised
  again (`NeedsReauthorization` from the client), or its CRM is gone. Transient failures (Salla down, a database
  blip) raise, and the job retries from the checkpoint.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import uuid
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from redis.asyncio import Redis
from saq import Queue
from saq.job import TERMINAL_STATUSES, Status

from app.crm import sources
from app.crm.services import catalogue_of, crm_connection
from app.salla import mapping, store_repository, sync_store
from app.salla.client import SallaClient, SallaPage
from app.salla.store_repository import StoreRecord
from app.salla.tokens import NeedsReauthorization
from app.settings import Settings
from app.tenancy.repository import TenantRecord
from app.tenancy.services import tenant_by_id

__all__ = [
    "DAILY_RESYNC_CRON",
    "JOB_OPTIONS",
    "LANES",
    "PER_PAGE",
    "RESOURCES",
    "SYNC_JOB",
    "CrmNotReady",
    "ResourceProgress",
    "cancel_syncs",
    "resync_due_stores",
    "run_full_sync",
    "start_full_sync",
    "sync_job_key",
    "sync_progress",
]

log = structlog.get_logger("wosool.salla.sync")

SYNC_JOB = "sync_salla_store"
RESOURCES = ("customers", "products", "orders")
LANES = (("customers",), ("products", "orders"))
"""Resources synced one after the other within a lane, lanes side by side (see the module doc)."""
PER_PAGE = 60
JOB_OPTIONS: dict[str, Any] = {
    "timeout": 6 * 3600,
    "heartbeat": 180,
    "retries": 8,
    "retry_delay": 10.0,
    "retry_backoff": 600.0,
    "ttl": -1,
}
"""A big store on the smallest plan takes hours (100k orders at 120 requests a minute: 14 min; 100k customers at
their own 500 per 10 minutes: 33 min), so the timeout is only a ceiling. A crashed worker's job comes back through
the heartbeat instead (the job beats every `HEARTBEAT_SECONDS`; SAQ's sweep retries it 3 minutes after the last
beat), and each retry resumes from the checkpoint. 8 attempts with backoff ride out an outage of Salla's of an hour
or so; then the sync is ``failed`` with the reason, and the daily re-sync or "Sync now" starts it again. A finished
job is deleted from Redis at once (``ttl=-1``): ``salla_syncs`` is the record."""
HEARTBEAT_SECONDS = 30.0
DAILY_RESYNC_CRON = "7 * * * *"
"""Hourly: each store's daily re-sync falls in one hour of the day (from its id), at a minute within it."""

_OBJECTS = {"customers": "people", "products": "products", "orders": "orders"}
_MAPPERS = {
    "customers": mapping.customer_record,
    "products": mapping.product_record,
    "orders": mapping.order_record,
}
_UNINSTALLED = "Stopped: the app was uninstalled from the store."


class CrmNotReady(RuntimeError):
    """The store's CRM is still being prepared: the job tries again later."""


@dataclass(frozen=True)
class ResourceProgress:
    """One resource's sync, for the merchant page."""

    resource: str
    status: str
    """``queued``, ``running``, ``done`` or ``failed``."""
    done: int
    total: int | None
    requests: int
    throttled: int
    eta_seconds: int | None
    """Seconds left at the rate observed so far (running resources only)."""
    last_error: str
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime

    @property
    def percent(self) -> int | None:
        if not self.total:
            return None
        return min(100, self.done * 100 // self.total)


def sync_job_key(store_id: uuid.UUID) -> str:
    return f"salla-sync:{store_id}"


async def start_full_sync(
    store: StoreRecord,
    queue: Queue,
    *,
    resources: tuple[str, ...] = RESOURCES,
    delay_seconds: float = 0.0,
) -> bool:
    """Reset the store's checkpoints for ``resources`` and enqueue its sync job; True when a job was enqueued.
    While the store's job is waiting, the reset is all it takes; while it runs, nothing changes (it is a full sync
    already)."""
    unknown = set(resources) - set(RESOURCES)
    if unknown or not resources:
        raise ValueError(f"resources must be some of {', '.join(RESOURCES)}")
    key = sync_job_key(store.id)
    existing = await queue.job(key)
    if existing is not None and existing.status == Status.ACTIVE:
        return False  # a full sync is running (or its worker died and SAQ will retry it from the checkpoint)
    await sync_store.reset(store.id, [name for name in RESOURCES if name in resources])
    if existing is not None and existing.status not in TERMINAL_STATUSES:
        return False  # the waiting job will run the reset checkpoints
    scheduled = int(datetime.now(UTC).timestamp() + delay_seconds) if delay_seconds > 0 else 0
    job = await queue.enqueue(SYNC_JOB, store_id=str(store.id), key=key, scheduled=scheduled, **JOB_OPTIONS)
    log.info("salla sync requested", store_id=str(store.id), resources=list(resources), enqueued=job is not None)
    return job is not None


async def cancel_syncs(store_id: uuid.UUID, *, reason: str = _UNINSTALLED) -> int:
    """Stop the store's sync (the app was uninstalled): unfinished resources become ``failed`` with ``reason``. A
    running job stops at its next page (its checkpoint no longer applies); a waiting one finds nothing to do when
    it runs. Returns how many resources were stopped."""
    return await sync_store.fail_unfinished(store_id, reason)


async def sync_progress(store_id: uuid.UUID) -> list[ResourceProgress]:
    """The store's sync per resource, in sync order (resources never synced are left out)."""
    now = datetime.now(UTC)
    rows = {row.resource: row for row in await sync_store.rows_of(store_id)}
    return [
        ResourceProgress(
            resource=row.resource,
            status=row.status,
            done=row.done,
            total=row.total,
            requests=row.requests,
            throttled=row.throttled,
            eta_seconds=_eta_seconds(row, now),
            last_error=row.last_error,
            started_at=row.started_at,
            finished_at=row.finished_at,
            updated_at=row.updated_at,
        )
        for name in RESOURCES
        if (row := rows.get(name)) is not None
    ]


def _eta_seconds(row: sync_store.SyncRow, now: datetime) -> int | None:
    if row.status != "running" or row.total is None or row.started_at is None:
        return None
    remaining = max(0, row.total - row.done)
    elapsed = (now - row.started_at).total_seconds()
    if remaining == 0:
        return 0
    if row.done <= 0 or elapsed <= 0:
        return None
    return math.ceil(remaining * elapsed / row.done)


# --- the job -----------------------------------------------------------------------------------------------------


async def run_full_sync(store_id: uuid.UUID, settings: Settings, redis: Redis) -> None:
    """Sync every unfinished resource of the store from its checkpoint. Raises on transient failures (the job is
    retried); records the reason and returns when the sync cannot go on."""
    store = await store_repository.store_by_id(store_id)
    if store is None:
        return
    tenant = await _usable_tenant(store)
    if tenant is None:
        return
    pending = {row.resource for row in await sync_store.rows_of(store.id) if row.status in sync_store.ACTIVE}
    try:
        await _side_by_side(
            _sync_lane(store, tenant, settings, redis, [name for name in lane if name in pending]) for lane in LANES
        )
    except NeedsReauthorization as error:
        await sync_store.fail_unfinished(store.id, f"Stopped: {error}")
        log.warning("salla sync stopped: the store must authorise the app again", store_id=str(store.id))


async def _side_by_side(lanes: Iterable[Coroutine[Any, Any, None]]) -> None:
    """Run the lanes together; the first failure cancels the others and is raised as itself (not as a group), so
    the job tells transient failures from final ones as usual."""
    try:
        async with asyncio.TaskGroup() as group:
            for lane in lanes:
                group.create_task(lane)
    except BaseExceptionGroup as failures:
        first = failures.exceptions[0]
        while isinstance(first, BaseExceptionGroup):
            first = first.exceptions[0]
        raise first from None


async def _sync_lane(
    store: StoreRecord, tenant: TenantRecord, settings: Settings, redis: Redis, resources: list[str]
) -> None:
    """One lane's resources in order, with a client of its own (its counters are the lane's; the rate budget is
    the store's, in Redis, shared by every client of the store)."""
    if not resources:
        return
    async with SallaClient(store, settings, redis) as client:
        for resource in resources:
            if not await _sync_resource(client, tenant, settings, store, resource):
                return


async def _usable_tenant(store: StoreRecord) -> TenantRecord | None:
    """The store's CRM, or None after recording why the sync cannot run. Raises CrmNotReady while it is prepared."""
    if store.status == "uninstalled":
        await sync_store.fail_unfinished(store.id, _UNINSTALLED)
        return None
    if store.status != "connected":
        await sync_store.fail_unfinished(
            store.id, "Stopped: Salla no longer accepts Wosool's access to the store; connect it again."
        )
        return None
    tenant = await tenant_by_id(store.tenant_id) if store.tenant_id else None
    if tenant is not None and tenant.status == "provisioning":
        raise CrmNotReady(f"the CRM of Salla store {store.merchant_id} is still being prepared")
    if tenant is None or tenant.status != "active":
        state = "missing" if tenant is None else tenant.status
        await sync_store.fail_unfinished(store.id, f"Stopped: the store's CRM is {state}.")
        return None
    return tenant


async def _sync_resource(
    client: SallaClient, tenant: TenantRecord, settings: Settings, store: StoreRecord, resource: str
) -> bool:
    """Page one resource to its end from its checkpoint. False when the sync was cancelled meanwhile.

    The next page is fetched while this one is stored (when the budget allows it that soon): where the rate allows
    more than the database takes (orders on the bigger plans), storing no longer waits for the network or the
    other way round. Checkpoints still follow the pages in order."""
    row = await sync_store.start(store.id, resource)
    if row is None:
        return True
    page, done = row.next_page, row.done
    requests_before, throttled_before = client.requests, client.throttled
    mapper = _MAPPERS[resource]
    fetching = asyncio.create_task(_fetch(client, resource, page))
    try:
        while True:
            as_of, answer = await fetching
            items = [item for item in answer.data if isinstance(item, dict)] if isinstance(answer.data, list) else []
            last = not items or page >= answer.total_pages
            if not last:
                fetching = asyncio.create_task(_fetch(client, resource, page + 1))
            await _store_page(tenant, settings, resource, [_mapped(mapper, item, as_of) for item in items])
            done += len(items)
            recorded = await sync_store.checkpoint(
                store.id,
                resource,
                next_page=page + 1,
                done=done,
                total=answer.total,
                requests=row.requests + client.requests - requests_before,
                throttled=row.throttled + client.throttled - throttled_before,
            )
            if not recorded:
                log.info("salla sync cancelled", store_id=str(store.id), resource=resource, page=page)
                return False
            if last:
                await sync_store.finish(store.id, resource)
                log.info("salla resource synced", store_id=str(store.id), resource=resource, rows=done, pages=page)
                return True
            page += 1
    finally:
        if not fetching.done():
            fetching.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await fetching


async def _fetch(client: SallaClient, resource: str, page: int) -> tuple[datetime, SallaPage]:
    """One page, and when it was asked for (the time of data that carries none of its own)."""
    as_of = datetime.now(UTC)
    return as_of, await client.get(f"/{resource}", {"page": page, "per_page": PER_PAGE})


def _mapped(mapper: Any, item: dict[str, Any], as_of: datetime) -> sources.SourceRecord | None:
    try:
        record: sources.SourceRecord = mapper(item, as_of=as_of)
    except mapping.UnusablePayload:
        return None
    return record


async def _store_page(
    tenant: TenantRecord, settings: Settings, resource: str, records: list[sources.SourceRecord | None]
) -> None:
    # A connection per page, not per sync: between pages the job mostly waits for the rate budget.
    async with crm_connection(tenant, settings) as connection:
        catalogue = await catalogue_of(connection, tenant)
        outcome = await sources.upsert_records(
            connection, catalogue, _OBJECTS[resource], [record for record in records if record is not None]
        )
    skipped = records.count(None)
    if skipped or outcome.rejected or outcome.dropped:
        # Field names and counts only: the values are the merchant's customers' personal data.
        log.warning(
            "salla records not fully stored",
            tenant=tenant.slug,
            resource=resource,
            without_id=skipped,
            rejected=outcome.rejected,
            dropped=outcome.dropped,
        )


# --- the daily re-sync -------------------------------------------------------------------------------------------


def _daily_slot(store_id: uuid.UUID) -> tuple[int, int]:
    """The store's hour of the day (UTC) and its second within that hour: stores spread over the whole day."""
    return store_id.int % 24, (store_id.int // 24) % 3300


async def resync_due_stores(queue: Queue, *, now: datetime | None = None) -> int:
    """Enqueue the full sync of every connected store whose daily slot falls in this hour, at its minute; returns
    how many were enqueued. Anything webhooks missed (a delivery Salla gave up on) is caught within a day."""
    hour = (now or datetime.now(UTC)).hour
    enqueued = 0
    for store in await store_repository.list_stores(statuses=("connected",)):
        slot_hour, offset = _daily_slot(store.id)
        if store.tenant_id is None or slot_hour != hour:
            continue
        if await start_full_sync(store, queue, delay_seconds=offset):
            enqueued += 1
    return enqueued
