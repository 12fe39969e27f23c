"""A real ``wosool worker`` killed with SIGKILL in the middle of a store's full sync: what it stored is exactly what
its checkpoints say (give or take the page in flight), and the job, retried as SAQ retries a job whose worker
stopped beating, resumes at each resource's checkpoint — no page fetched again but the one in flight — and
finishes with every record once."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from pathlib import Path

from redis.asyncio import Redis
from saq import Queue

from app.crm.services import crm_connection
from app.salla import sync, sync_store
from app.salla.sandbox import Sandbox
from app.settings import Settings
from tests.conftest import wosool_env
from tests.salla.connected_store import connect_store, counts

MERCHANT = 4321
PAGES = {"customers": 10, "products": 2, "orders": 20}


def start_worker(settings: Settings, log_path: Path) -> subprocess.Popen[bytes]:
    """``wosool worker`` as its own process, on this test's databases, queue and sandbox."""
    salla = settings.salla
    with log_path.open("w") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "app", "worker", "--concurrency", "2"],
            env=wosool_env(
                DATABASE_URL=settings.database_url,
                REDIS_URL=settings.redis_url,
                WOSOOL_QUEUE=settings.queue_name,
                SALLA_CLIENT_ID=salla.client_id,
                SALLA_CLIENT_SECRET=salla.client_secret,
                SALLA_WEBHOOK_SECRET=salla.webhook_secret,
                SALLA_ACCOUNTS_URL=salla.accounts_url,
                SALLA_API_URL=salla.api_url,
            ),
            stdout=log,
            stderr=subprocess.STDOUT,
        )


async def wait_for_rows(
    store_id: object, ready: object, what: str, seconds: float = 90.0
) -> dict[str, sync_store.SyncRow]:
    for _ in range(int(seconds / 0.05)):
        rows = {row.resource: row for row in await sync_store.rows_of(store_id)}  # type: ignore[arg-type]
        if ready(rows):  # type: ignore[operator]
            return rows
        await asyncio.sleep(0.05)
    raise AssertionError(f"gave up waiting: {what}")


async def test_a_killed_worker_s_sync_resumes_at_its_checkpoints_and_stores_everything_once(
    sandbox: Sandbox, salla_settings: Settings, redis: Redis, queue: Queue, tmp_path: Path
) -> None:
    # Plus: 2 requests a second after a burst of 12, so the 32 pages take seconds and the kill lands mid-way.
    sandbox.add_store(
        merchant_id=MERCHANT,
        username="ward",
        name="ورد",
        owner_email="owner@ward.sa",
        plan="plus",
        customers=600,
        products=120,
        orders=1200,
        seed=3,
    )
    connected = await connect_store(salla_settings, redis, queue, sandbox, MERCHANT, slug="ward")
    store_id = connected.store.id
    assert await sync.start_full_sync(connected.store, queue)

    first = start_worker(salla_settings, tmp_path / "worker-1.log")
    try:
        await wait_for_rows(
            store_id,
            lambda rows: rows["orders"].status == "running" and rows["orders"].next_page >= 4,
            "a few pages of orders",
        )
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    at_kill = {row.resource: row for row in await sync_store.rows_of(store_id)}
    stored_at_kill = await counts(connected.tenant, salla_settings)
    requests_at_kill = dict(sandbox.stats(MERCHANT).by_path)

    assert at_kill["orders"].status == "running"
    for resource, table in (("customers", "people"), ("products", "products"), ("orders", "orders")):
        recorded = at_kill[resource].done
        assert stored_at_kill[table] in (recorded, recorded + 60), resource  # a page is stored whole or not at all
    job = await queue.job(sync.sync_job_key(store_id))
    assert job is not None
    assert job.status == "active"  # as the dead worker left it
    assert job.retryable
    assert job.heartbeat > 0  # so SAQ's sweep notices the silence...
    await queue.retry(job, "swept")  # ...and does this (here at once, instead of after the heartbeat period)

    second = start_worker(salla_settings, tmp_path / "worker-2.log")
    try:
        await wait_for_rows(store_id, lambda rows: all(row.status == "done" for row in rows.values()), "the sync")
    finally:
        second.terminate()
        second.wait(timeout=30)

    assert await counts(connected.tenant, salla_settings) == {"people": 600, "products": 120, "orders": 1200}
    async with crm_connection(connected.tenant, salla_settings) as connection:
        unlinked = await connection.fetchval("SELECT count(*) FROM orders WHERE customer IS NULL")
        lines = await connection.fetchval("SELECT count(*) FROM order_items")
    data = sandbox.store(MERCHANT)
    assert unlinked == 0
    assert lines == sum(len((data.order(order_id) or {})["items"]) for order_id in data.order_ids())
    resumed = sandbox.stats(MERCHANT).by_path
    for resource, pages in PAGES.items():
        row = at_kill[resource]
        expected = 0 if row.status == "done" else pages - row.next_page + 1
        assert resumed.get(f"/{resource}", 0) - requests_at_kill.get(f"/{resource}", 0) == expected, resource
    final = {item.resource: item for item in await sync.sync_progress(store_id)}
    assert {name: (item.done, item.total) for name, item in final.items()} == {
        "customers": (600, 600),
        "products": (120, 120),
        "orders": (1200, 1200),
    }
    assert sandbox.stats(MERCHANT).throttled == 0
