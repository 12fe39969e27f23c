"""The full sync of a Salla store (app.salla.sync) against the sandbox served over HTTP: every customer, product
and order lands in the store's CRM, orders with their customers and items, findable by global search; a second
sync doubles nothing; a 429 storm only slows it down; a store that must be authorised again, or was uninstalled,
stops the sync with the reason recorded; the daily re-sync takes each connected store once a day."""

from __future__ import annotations

from datetime import UTC, datetime

from redis.asyncio import Redis
from saq import Queue

from app.crm import search
from app.crm.services import catalogue_of, crm_connection
from app.salla import sync
from app.salla.sandbox import Sandbox
from app.settings import Settings
from tests.salla.connected_store import connect_store, counts

MERCHANT = 5555
PAGES = {"customers": 3, "products": 2, "orders": 3}


def add_store(sandbox: Sandbox, *, plan: str = "special") -> None:
    sandbox.add_store(
        merchant_id=MERCHANT,
        username="oud-house",
        name="بيت العود",
        owner_email="owner@oud.sa",
        plan=plan,
        customers=130,
        products=70,
        orders=150,
        seed=7,
    )


def order_lines(sandbox: Sandbox) -> int:
    store = sandbox.store(MERCHANT)
    return sum(len((store.order(order_id) or {})["items"]) for order_id in store.order_ids())


async def test_it_copies_every_customer_product_and_order_with_their_links(
    sandbox: Sandbox, salla_settings: Settings, redis: Redis, queue: Queue
) -> None:
    add_store(sandbox)
    connected = await connect_store(salla_settings, redis, queue, sandbox, MERCHANT, slug="oud")

    assert await sync.start_full_sync(connected.store, queue)
    await sync.run_full_sync(connected.store.id, salla_settings, redis)

    data = sandbox.store(MERCHANT).data
    assert await counts(connected.tenant, salla_settings) == {"people": 130, "products": 70, "orders": 150}
    async with crm_connection(connected.tenant, salla_settings) as connection:
        links = await connection.fetch(
            "SELECT o.salla_id AS order_id, p.salla_id AS customer_id "
            "FROM orders o LEFT JOIN people p ON p.id = o.customer"
        )
        items = await connection.fetchval("SELECT count(*) FROM order_items")
        catalogue = await catalogue_of(connection, connected.tenant)
        arabic = next(
            c for c in map(data.customer, sandbox.store(MERCHANT).customer_ids()) if c and not c["first_name"].isascii()
        )
        found = await search.search_everything(connection, catalogue, f"{arabic['first_name']} {arabic['last_name']}")
        stored = await connection.fetchrow("SELECT * FROM people WHERE salla_id = $1", str(arabic["id"]))
    assert {row["order_id"]: row["customer_id"] for row in links} == {
        str(order_id): str(data.order_customer_id(order_id)) for order_id in sandbox.store(MERCHANT).order_ids()
    }
    assert items == order_lines(sandbox)
    assert str(arabic["id"]) in [hit["salla_id"] for hit in found["people"]]
    assert stored["phone_primary"] == f"+966{arabic['mobile']}"
    assert stored["created_by_source"] == "salla"

    progress = await sync.sync_progress(connected.store.id)
    assert [(p.resource, p.status, p.done, p.total, p.last_error) for p in progress] == [
        ("customers", "done", 130, 130, ""),
        ("products", "done", 70, 70, ""),
        ("orders", "done", 150, 150, ""),
    ]
    assert {p.resource: p.requests for p in progress} == PAGES
    assert all(p.finished_at is not None and p.eta_seconds is None for p in progress)
    assert sandbox.stats(MERCHANT).throttled == 0


async def test_a_second_sync_doubles_nothing_and_one_store_has_one_job(
    sandbox: Sandbox, salla_settings: Settings, redis: Redis, queue: Queue
) -> None:
    add_store(sandbox)
    connected = await connect_store(salla_settings, redis, queue, sandbox, MERCHANT, slug="oud")
    assert await sync.start_full_sync(connected.store, queue)
    assert not await sync.start_full_sync(connected.store, queue)  # its job is still waiting
    await sync.run_full_sync(connected.store.id, salla_settings, redis)
    async with crm_connection(connected.tenant, salla_settings) as connection:
        first = await connection.fetchval("SELECT max(updated_at) FROM people")

    await sync.start_full_sync(connected.store, queue)  # refused (the first job was never run), still resets
    await sync.run_full_sync(connected.store.id, salla_settings, redis)

    assert await counts(connected.tenant, salla_settings) == {"people": 130, "products": 70, "orders": 150}
    async with crm_connection(connected.tenant, salla_settings) as connection:
        assert await connection.fetchval("SELECT count(*) FROM order_items") == order_lines(sandbox)
        assert await connection.fetchval("SELECT max(updated_at) FROM people") == first  # nothing changed
    assert [p.status for p in await sync.sync_progress(connected.store.id)] == ["done"] * 3


async def test_a_429_storm_only_slows_the_sync_down(
    sandbox: Sandbox, salla_settings: Settings, redis: Redis, queue: Queue
) -> None:
    add_store(sandbox)
    connected = await connect_store(salla_settings, redis, queue, sandbox, MERCHANT, slug="oud")
    sandbox.storm(MERCHANT, count=4, status=429, retry_after=1)

    await sync.start_full_sync(connected.store, queue)
    await sync.run_full_sync(connected.store.id, salla_settings, redis)

    assert await counts(connected.tenant, salla_settings) == {"people": 130, "products": 70, "orders": 150}
    progress = await sync.sync_progress(connected.store.id)
    assert [(p.status, p.last_error) for p in progress] == [("done", "")] * 3
    assert sandbox.stats(MERCHANT).throttled == 4
    assert sum(p.throttled for p in progress) >= 4
    assert sum(p.requests for p in progress) == sum(PAGES.values()) + 4


async def test_it_stops_with_the_reason_when_salla_revoked_the_tokens(
    sandbox: Sandbox, salla_settings: Settings, redis: Redis, queue: Queue
) -> None:
    add_store(sandbox)
    connected = await connect_store(salla_settings, redis, queue, sandbox, MERCHANT, slug="oud")
    sandbox.revoke_tokens(MERCHANT)

    await sync.start_full_sync(connected.store, queue)
    await sync.run_full_sync(connected.store.id, salla_settings, redis)  # returns: nothing to retry

    progress = await sync.sync_progress(connected.store.id)
    assert [p.status for p in progress] == ["failed"] * 3
    assert all(p.last_error.startswith("Stopped:") for p in progress)
    assert await counts(connected.tenant, salla_settings) == {"people": 0, "products": 0, "orders": 0}


async def test_an_uninstall_cancels_the_sync_and_a_cancelled_sync_writes_nothing(
    sandbox: Sandbox, salla_settings: Settings, redis: Redis, queue: Queue
) -> None:
    add_store(sandbox)
    connected = await connect_store(salla_settings, redis, queue, sandbox, MERCHANT, slug="oud")
    await sync.start_full_sync(connected.store, queue)

    assert await sync.cancel_syncs(connected.store.id) == 3
    await sync.run_full_sync(connected.store.id, salla_settings, redis)

    progress = await sync.sync_progress(connected.store.id)
    assert [(p.status, p.last_error) for p in progress] == [
        ("failed", "Stopped: the app was uninstalled from the store.")
    ] * 3
    assert sandbox.stats(MERCHANT).requests == 0
    assert await counts(connected.tenant, salla_settings) == {"people": 0, "products": 0, "orders": 0}


async def test_the_daily_resync_takes_each_connected_store_in_its_own_hour(
    sandbox: Sandbox, salla_settings: Settings, redis: Redis, queue: Queue
) -> None:
    add_store(sandbox)
    connected = await connect_store(salla_settings, redis, queue, sandbox, MERCHANT, slug="oud")
    hour = connected.store.id.int % 24

    other_hour = await sync.resync_due_stores(queue, now=datetime(2026, 11, 27, (hour + 1) % 24, 7, tzinfo=UTC))
    its_hour = await sync.resync_due_stores(queue, now=datetime(2026, 11, 27, hour, 7, tzinfo=UTC))
    again = await sync.resync_due_stores(queue, now=datetime(2026, 11, 27, hour, 7, tzinfo=UTC))

    assert (other_hour, its_hour, again) == (0, 1, 0)
    job = await queue.job(sync.sync_job_key(connected.store.id))
    assert job is not None
    assert job.retries > 1
    assert job.heartbeat > 0
    assert job.scheduled > datetime.now(UTC).timestamp() - 5
    assert [p.status for p in await sync.sync_progress(connected.store.id)] == ["queued"] * 3


async def test_the_progress_estimates_the_time_left_from_the_rate_so_far(
    sandbox: Sandbox, salla_settings: Settings, redis: Redis, queue: Queue
) -> None:
    add_store(sandbox)
    connected = await connect_store(salla_settings, redis, queue, sandbox, MERCHANT, slug="oud")
    await sync.start_full_sync(connected.store, queue, resources=("orders",))
    from app.salla import sync_store

    await sync_store.start(connected.store.id, "orders")
    await sync_store.checkpoint(
        connected.store.id, "orders", next_page=11, done=600, total=1800, requests=10, throttled=2
    )
    from app.salla.tables import SallaSync

    await SallaSync.raw(
        "UPDATE salla_syncs SET started_at = now() - interval '60 seconds' WHERE store = {}", connected.store.id
    )

    [orders] = await sync.sync_progress(connected.store.id)
    assert (orders.resource, orders.status, orders.done, orders.total, orders.throttled) == (
        "orders",
        "running",
        600,
        1800,
        2,
    )
    assert orders.eta_seconds is not None
    assert 115 <= orders.eta_seconds <= 125  # 1200 left at 10 a second
    assert orders.percent == 33
