"""The store's data webhooks (app.salla.store_events), each through the real inbox (stored, then applied): they
keep the CRM current, in whatever order and however often Salla delivers them, and only in the store's own CRM."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from redis.asyncio import Redis
from saq import Queue

from app.crm import records
from app.crm.services import catalogue_of, crm_connection
from app.registry import database as registry
from app.salla import inbox, store_repository
from app.salla.events import EventContext
from app.salla.sandbox import Sandbox
from app.settings import Settings
from app.tenancy.repository import TenantRecord
from tests.salla.connected_store import connect_store, counts

MERCHANT = 1234
"""The `sandbox` fixture's store."""
OTHER = 7777


@pytest.fixture
async def context(salla_settings: Settings, redis: Redis, queue: Queue) -> EventContext:
    await registry.open_pool()
    return EventContext(settings=salla_settings, redis=redis, queue=queue)


async def apply(context: EventContext, body: bytes) -> str:
    receipt = await inbox.receive(body)
    return await inbox.apply(receipt.id, context)


async def apply_event(context: EventContext, sandbox: Sandbox, event: str, data: object, **options: object) -> str:
    body, _ = sandbox.webhook(event, options.pop("merchant", MERCHANT), data, **options)  # type: ignore[arg-type]
    return await apply(context, body)


def queued_bodies(sandbox: Sandbox, merchant: int = MERCHANT) -> list[tuple[str, bytes]]:
    """The webhooks the sandbox's changes produced (and forget them, as if Salla had sent them)."""
    store = sandbox.store(merchant)
    found = [(webhook.event, webhook.body) for webhook in store.outbox]
    store.outbox = []
    return found


async def person_of(tenant: TenantRecord, settings: Settings, salla_id: int) -> dict[str, object] | None:
    async with crm_connection(tenant, settings) as connection:
        row = await connection.fetchrow("SELECT * FROM people WHERE salla_id = $1", str(salla_id))
    return None if row is None else dict(row)


async def test_a_customer_update_changes_the_person_and_its_timeline(
    sandbox: Sandbox, salla_settings: Settings, redis: Redis, queue: Queue, context: EventContext
) -> None:
    connected = await connect_store(salla_settings, redis, queue, sandbox, MERCHANT, slug="noor")
    customer_id = sandbox.store(MERCHANT).customer_ids()[0]
    created = sandbox.event_data("customer.created", MERCHANT, record_id=customer_id)
    assert await apply_event(context, sandbox, "customer.created", created) == "done"

    sandbox.update_customer(MERCHANT, customer_id, first_name="سارة", city="جدة", email="Sara@Example.SA")
    [(event, body)] = queued_bodies(sandbox)
    assert (event, await apply(context, body)) == ("customer.updated", "done")

    person = await person_of(connected.tenant, salla_settings, customer_id)
    assert person is not None
    assert (person["first_name"], person["city"], person["email_primary"]) == ("سارة", "جدة", "sara@example.sa")
    assert person["updated_by_source"] == "salla"
    async with crm_connection(connected.tenant, salla_settings) as connection:
        catalogue = await catalogue_of(connection, connected.tenant)
        events = await records.timeline(connection, catalogue.objects["people"], person["id"])  # type: ignore[arg-type]
    assert [event["kind"] for event in events] == ["updated", "created"]
    assert events[0]["changes"]["city"][1] == "جدة"


async def test_an_older_update_arriving_after_a_newer_one_changes_nothing(
    sandbox: Sandbox, salla_settings: Settings, redis: Redis, queue: Queue, context: EventContext
) -> None:
    connected = await connect_store(salla_settings, redis, queue, sandbox, MERCHANT, slug="noor")
    customer_id = sandbox.store(MERCHANT).customer_ids()[0]
    sandbox.update_customer(MERCHANT, customer_id, city="الدمام")
    sandbox.update_customer(MERCHANT, customer_id, city="أبها")
    (_, older), (_, newer) = queued_bodies(sandbox)

    assert await apply(context, newer) == "done"
    assert await apply(context, older) == "done"

    person = await person_of(connected.tenant, salla_settings, customer_id)
    assert person is not None
    assert person["city"] == "أبها"


async def test_a_deleted_product_is_soft_deleted(
    sandbox: Sandbox, salla_settings: Settings, redis: Redis, queue: Queue, context: EventContext
) -> None:
    connected = await connect_store(salla_settings, redis, queue, sandbox, MERCHANT, slug="noor")
    product_id = sandbox.store(MERCHANT).product_ids()[0]
    product = sandbox.event_data("product.created", MERCHANT, record_id=product_id)
    assert await apply_event(context, sandbox, "product.created", product) == "done"

    sandbox.delete_product(MERCHANT, product_id)
    [(event, body)] = queued_bodies(sandbox)
    assert (event, await apply(context, body)) == ("product.deleted", "done")

    async with crm_connection(connected.tenant, salla_settings) as connection:
        row = await connection.fetchrow("SELECT name, deleted_at FROM products WHERE salla_id = $1", str(product_id))
    assert row["name"] == product["name"]
    assert row["deleted_at"] is not None
    assert await counts(connected.tenant, salla_settings) == {"people": 0, "products": 0, "orders": 0}


async def test_a_delete_that_overtakes_the_creation_keeps_the_product_deleted(
    sandbox: Sandbox, salla_settings: Settings, redis: Redis, queue: Queue, context: EventContext
) -> None:
    connected = await connect_store(salla_settings, redis, queue, sandbox, MERCHANT, slug="noor")
    product_id = sandbox.store(MERCHANT).product_ids()[0]
    created, _ = sandbox.webhook(
        "product.created", MERCHANT, sandbox.event_data("product.created", MERCHANT, record_id=product_id)
    )
    sandbox.delete_product(MERCHANT, product_id)
    [(event, deleted)] = queued_bodies(sandbox)
    assert event == "product.deleted"

    assert await apply(context, deleted) == "done"  # Salla's retries can deliver the delete first
    assert await apply(context, created) == "done"

    async with crm_connection(connected.tenant, salla_settings) as connection:
        rows = await connection.fetch("SELECT deleted_at FROM products WHERE salla_id = $1", str(product_id))
    assert len(rows) == 1
    assert rows[0]["deleted_at"] is not None
    assert await counts(connected.tenant, salla_settings) == {"people": 0, "products": 0, "orders": 0}


async def test_an_order_that_comes_before_its_customer_is_linked_when_the_customer_arrives(
    sandbox: Sandbox, salla_settings: Settings, redis: Redis, queue: Queue, context: EventContext
) -> None:
    connected = await connect_store(salla_settings, redis, queue, sandbox, MERCHANT, slug="noor")
    customer = sandbox.create_customer(MERCHANT, first_name="ريم", last_name="القحطاني")
    order = sandbox.create_order(MERCHANT, customer_id=customer["id"], status="under_review")
    (customer_event, customer_body), (order_event, order_body) = queued_bodies(sandbox)
    assert (customer_event, order_event) == ("customer.created", "order.created")

    assert await apply(context, order_body) == "done"
    async with crm_connection(connected.tenant, salla_settings) as connection:
        waiting = await connection.fetchrow(
            "SELECT customer, customer_salla_id FROM orders WHERE salla_id = $1", str(order["id"])
        )
    assert await apply(context, customer_body) == "done"

    assert (waiting["customer"], waiting["customer_salla_id"]) == (None, str(customer["id"]))
    async with crm_connection(connected.tenant, salla_settings) as connection:
        linked = await connection.fetchrow(
            "SELECT o.*, p.first_name FROM orders o JOIN people p ON p.id = o.customer WHERE o.salla_id = $1",
            str(order["id"]),
        )
        items = await connection.fetch('SELECT name, sku, product FROM order_items WHERE "order" = $1', linked["id"])
    assert linked["first_name"] == "ريم"
    assert linked["reference"] == str(order["reference_id"])
    assert linked["status"] == order["status"]["name"]
    assert linked["total_amount_minor"] == round(order["amounts"]["total"]["amount"] * 100)
    assert [item["sku"] for item in items] == [line["sku"] for line in order["items"]]


async def test_an_abandoned_cart_becomes_one_deal_however_often_it_arrives(
    sandbox: Sandbox, salla_settings: Settings, redis: Redis, queue: Queue, context: EventContext
) -> None:
    connected = await connect_store(salla_settings, redis, queue, sandbox, MERCHANT, slug="noor")
    customer_id = sandbox.store(MERCHANT).customer_ids()[0]
    cart = sandbox.abandon_cart(MERCHANT, customer_id)
    queued_bodies(sandbox)

    first = await apply_event(
        context, sandbox, "abandoned.cart", cart, created_at=datetime(2026, 11, 27, 8, tzinfo=UTC)
    )
    again = await apply_event(
        context, sandbox, "abandoned.cart", cart, created_at=datetime(2026, 11, 27, 9, tzinfo=UTC)
    )

    assert (first, again) == ("done", "done")
    async with crm_connection(connected.tenant, salla_settings) as connection:
        deals = await connection.fetch(
            "SELECT d.*, p.salla_id AS person FROM opportunities d LEFT JOIN people p ON p.id = d.point_of_contact"
        )
    assert len(deals) == 1
    [deal] = deals
    assert deal["name"] == f"Abandoned cart — {cart['customer']['name']}"
    assert deal["stage"] == "new"
    assert deal["amount_amount_minor"] == round(cart["total"]["amount"] * 100)
    assert deal["person"] == str(customer_id)
    assert deal["created_by_source"] == "salla"


async def test_events_reach_only_their_own_stores_crm(
    sandbox: Sandbox, salla_settings: Settings, redis: Redis, queue: Queue, context: EventContext
) -> None:
    sandbox.add_store(
        merchant_id=OTHER, username="misk", name="مسك", owner_email="owner@misk.sa", customers=5, products=5, orders=5
    )
    noor = await connect_store(salla_settings, redis, queue, sandbox, MERCHANT, slug="noor")
    misk = await connect_store(salla_settings, redis, queue, sandbox, OTHER, slug="misk")
    customer_id = sandbox.store(OTHER).customer_ids()[0]

    data = sandbox.event_data("customer.created", OTHER, record_id=customer_id)
    assert await apply_event(context, sandbox, "customer.created", data, merchant=OTHER) == "done"

    assert await counts(misk.tenant, salla_settings) == {"people": 1, "products": 0, "orders": 0}
    assert await counts(noor.tenant, salla_settings) == {"people": 0, "products": 0, "orders": 0}


async def test_an_unknown_store_is_retried_and_an_uninstalled_one_skipped(
    sandbox: Sandbox, salla_settings: Settings, redis: Redis, queue: Queue, context: EventContext
) -> None:
    connected = await connect_store(salla_settings, redis, queue, sandbox, MERCHANT, slug="noor")
    sandbox.add_store(merchant_id=OTHER, username="misk", name="مسك", owner_email="owner@misk.sa")
    unknown = sandbox.event_data("customer.created", OTHER)
    known = sandbox.event_data("customer.created", MERCHANT)

    retried = await apply_event(context, sandbox, "customer.created", unknown, merchant=OTHER)
    await store_repository.update_store(connected.store.id, status="uninstalled")
    skipped = await apply_event(context, sandbox, "customer.created", known)

    assert (retried, skipped) == ("retry", "done")
    [row] = await inbox.list_webhooks(merchant_id=OTHER)
    assert "not known yet" in row.last_error
    assert await counts(connected.tenant, salla_settings) == {"people": 0, "products": 0, "orders": 0}
