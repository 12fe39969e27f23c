"""The CRM engine's service for records from an outside source (app.crm.sources), in a real tenant database:
bulk upserts keyed by Salla id that keep the engine's rules, never let older data win, link orders to customers
whenever they arrive, replace an order's items, and soft delete by Salla id."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from redis.asyncio import Redis
from saq import Queue

from app.crm import records, search, sources
from app.crm.metadata import Catalogue
from app.crm.services import catalogue_of, crm_connection
from app.crm.sources import SourceLine, SourceRecord
from app.settings import Settings
from app.tenancy import runtime
from tests.people import create_organization

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
async def crm(settings: Settings, redis: Redis, queue: Queue) -> AsyncIterator[tuple[asyncpg.Connection, Catalogue]]:
    tenant = await create_organization(settings, redis, queue, slug="acme", owner="alice@example.com")
    await runtime.open_pools(settings)
    async with crm_connection(tenant, settings) as connection:
        yield connection, await catalogue_of(connection, tenant)


def customer(salla_id: str, at: datetime = T0, **values: object) -> SourceRecord:
    base: dict[str, object] = {
        "first_name": "أحمد",
        "last_name": "الغامدي",
        "email": "Ahmed.G@Example.COM",
        "phone": "+966 50 123 4567",
        "city": "الرياض",
        "country": "السعودية",
    }
    return SourceRecord(salla_id=salla_id, values={**base, **values}, updated_at=at)


async def person(connection: asyncpg.Connection, salla_id: str) -> asyncpg.Record:
    row: asyncpg.Record = await connection.fetchrow("SELECT * FROM people WHERE salla_id = $1", salla_id)
    return row


async def test_it_creates_many_people_with_the_engines_values_and_search(crm) -> None:  # type: ignore[no-untyped-def]
    connection, catalogue = crm
    batch = [customer(str(100 + n), first_name=f"عميل{n}", phone=f"05012345{n:02d}") for n in range(60)]
    batch[0] = customer("100", first_name="أَحمد")

    outcome = await sources.upsert_records(connection, catalogue, "people", batch)

    assert (outcome.created, outcome.updated, outcome.unchanged) == (60, 0, 0)
    assert await connection.fetchval("SELECT count(*) FROM people") == 60
    stored = await person(connection, "100")
    assert stored["email_primary"] == "ahmed.g@example.com"
    assert stored["phone_primary"] == "+966501234567"
    assert stored["created_by_source"] == stored["updated_by_source"] == "salla"
    assert stored["salla_updated_at"] == T0
    # the bulk path writes no per-row timeline (see the module doc of app.crm.sources)
    assert await connection.fetchval("SELECT count(*) FROM timeline_events") == 0
    found = await search.search_everything(connection, catalogue, "احمد الغامدي")
    assert [hit["salla_id"] for hit in found["people"]] == ["100"]
    by_phone = await search.search_everything(connection, catalogue, "0501234567")
    assert "100" in [hit["salla_id"] for hit in by_phone["people"]]


async def test_a_repeat_changes_nothing_and_creates_no_duplicates(crm) -> None:  # type: ignore[no-untyped-def]
    connection, catalogue = crm
    await sources.upsert_records(connection, catalogue, "people", [customer("1"), customer("2")])
    first = await person(connection, "1")

    again = await sources.upsert_records(connection, catalogue, "people", [customer("1"), customer("2")])

    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert await connection.fetchval("SELECT count(*) FROM people") == 2
    assert (await person(connection, "1"))["updated_at"] == first["updated_at"]


async def test_newer_data_wins_and_older_data_changes_nothing(crm) -> None:  # type: ignore[no-untyped-def]
    connection, catalogue = crm
    await sources.upsert_records(connection, catalogue, "people", [customer("1", T0, city="جدة")])

    newer = await sources.upsert_records(connection, catalogue, "people", [customer("1", T0 + timedelta(hours=2))])
    older = await sources.upsert_records(
        connection, catalogue, "people", [customer("1", T0 + timedelta(hours=1), city="الدمام")]
    )
    untimed = await sources.upsert_records(
        connection, catalogue, "people", [SourceRecord("1", {"city": "تبوك"}, updated_at=None)]
    )

    assert (newer.updated, older.updated, untimed.updated) == (1, 0, 0)
    stored = await person(connection, "1")
    assert stored["city"] == "الرياض"
    assert stored["salla_updated_at"] == T0 + timedelta(hours=2)


async def test_a_partial_update_leaves_the_other_fields_and_their_search_text(crm) -> None:  # type: ignore[no-untyped-def]
    connection, catalogue = crm
    await sources.upsert_records(connection, catalogue, "people", [customer("1")])

    await sources.upsert_records(
        connection, catalogue, "people", [SourceRecord("1", {"city": "جدة"}, updated_at=T0 + timedelta(1))]
    )

    stored = await person(connection, "1")
    assert (stored["first_name"], stored["email_primary"], stored["city"]) == ("أحمد", "ahmed.g@example.com", "جدة")
    assert "ahmed.g@example.com" in stored["search_text"]
    assert "جده" in stored["search_text"]  # normalised: ta marbuta as ha
    assert "الرياض" not in stored["search_text"]


async def test_values_the_field_rules_refuse_are_dropped_and_records_without_a_name_are_rejected(crm) -> None:  # type: ignore[no-untyped-def]
    connection, catalogue = crm
    outcome = await sources.upsert_records(
        connection,
        catalogue,
        "people",
        [customer("1", email="not an e-mail", phone="12")],
    )
    products = await sources.upsert_records(
        connection,
        catalogue,
        "products",
        [SourceRecord("p1", {"name": None, "sku": "X"}), SourceRecord("p2", {"name": "عود", "sku": "Y"})],
    )

    assert outcome.created == 1
    assert outcome.dropped == {"email": 1, "phone": 1}
    stored = await person(connection, "1")
    assert stored["email_primary"] is None
    assert stored["phone_primary"] is None
    assert stored["first_name"] == "أحمد"
    assert (products.created, products.rejected) == (1, 1)
    assert await connection.fetchval("SELECT array_agg(salla_id) FROM products") == ["p2"]


def order(
    salla_id: str, customer_id: str | None, at: datetime = T0, lines: list[SourceLine] | None = None
) -> SourceRecord:
    return SourceRecord(
        salla_id=salla_id,
        values={
            "reference": f"R{salla_id}",
            "status": "بإنتظار المراجعة",
            "total": {"amount_minor": 11500, "currency": "SAR"},
            "ordered_at": T0,
            "item_count": 3,
            "item_summary": "2 × قميص, 1 × حذاء",
        },
        updated_at=at,
        links={"customer": customer_id},
        lines=lines,
    )


async def test_an_order_is_linked_to_its_customer_now_or_when_the_customer_arrives(crm) -> None:  # type: ignore[no-untyped-def]
    connection, catalogue = crm
    await sources.upsert_records(connection, catalogue, "people", [customer("1")])

    await sources.upsert_records(connection, catalogue, "orders", [order("o1", "1"), order("o2", "2")])
    early = await connection.fetch("SELECT salla_id, customer FROM orders ORDER BY salla_id")
    await sources.upsert_records(connection, catalogue, "people", [customer("2")])

    people = {row["salla_id"]: row["id"] for row in await connection.fetch("SELECT salla_id, id FROM people")}
    assert [(row["salla_id"], row["customer"]) for row in early] == [("o1", people["1"]), ("o2", None)]
    linked = await connection.fetch("SELECT salla_id, customer FROM orders ORDER BY salla_id")
    assert [(row["salla_id"], row["customer"]) for row in linked] == [("o1", people["1"]), ("o2", people["2"])]
    stored = await connection.fetchrow("SELECT * FROM orders WHERE salla_id = 'o1'")
    assert (stored["total_amount_minor"], stored["total_currency"]) == (11500, "SAR")


async def test_an_orders_items_are_replaced_and_a_summary_keeps_richer_items(crm) -> None:  # type: ignore[no-untyped-def]
    connection, catalogue = crm
    await sources.upsert_records(connection, catalogue, "products", [SourceRecord("p1", {"name": "قميص"}, T0)])
    detailed = [
        SourceLine(
            {"name": "قميص", "quantity": 2, "sku": "S-1", "unit_price": {"amount_minor": 5000, "currency": "SAR"}},
            salla_id="i1",
            links={"product": "p1"},
        ),
        SourceLine({"name": "حذاء", "quantity": 1}, salla_id="i2", links={"product": "p9"}),
    ]
    summary = [SourceLine({"name": "قميص", "quantity": 2}), SourceLine({"name": "حذاء", "quantity": 1})]
    changed = [SourceLine({"name": "قميص", "quantity": 3})]

    await sources.upsert_records(connection, catalogue, "orders", [order("o1", None, T0, detailed)])
    await sources.upsert_records(connection, catalogue, "orders", [order("o1", None, T0 + timedelta(1), summary)])
    kept = await connection.fetch("SELECT name, quantity, sku, product FROM order_items ORDER BY position")
    await sources.upsert_records(connection, catalogue, "orders", [order("o1", None, T0 + timedelta(2), changed)])
    replaced = await connection.fetch("SELECT name, quantity, sku FROM order_items ORDER BY position")

    product_id = await connection.fetchval("SELECT id FROM products WHERE salla_id = 'p1'")
    assert [(row["name"], int(row["quantity"]), row["sku"], row["product"]) for row in kept] == [
        ("قميص", 2, "S-1", product_id),
        ("حذاء", 1, None, None),
    ]
    assert [(row["name"], int(row["quantity"]), row["sku"]) for row in replaced] == [("قميص", 3, None)]
    order_id = await connection.fetchval("SELECT id FROM orders WHERE salla_id = 'o1'")
    assert await connection.fetchval('SELECT count(*) FROM order_items WHERE "order" = $1', order_id) == 1


async def test_webhook_writes_leave_one_timeline_event_per_change(crm) -> None:  # type: ignore[no-untyped-def]
    connection, catalogue = crm
    await sources.upsert_records(connection, catalogue, "people", [customer("1")], timeline=True)
    await sources.upsert_records(connection, catalogue, "people", [customer("1")], timeline=True)  # no change
    await sources.upsert_records(
        connection, catalogue, "people", [customer("1", T0 + timedelta(1), city="جدة")], timeline=True
    )

    stored = await person(connection, "1")
    events = await records.timeline(connection, catalogue.objects["people"], stored["id"])
    assert [event["kind"] for event in events] == ["updated", "created"]
    assert events[0]["changes"] == {"city": ["الرياض", "جدة"]}
    assert events[0]["actor"]["source"] == "salla"
    assert events[1]["changes"]["email"] == [None, {"primary": "ahmed.g@example.com", "additional": []}]


async def test_initial_values_are_set_once_and_a_soft_delete_goes_by_salla_id(crm) -> None:  # type: ignore[no-untyped-def]
    connection, catalogue = crm
    deal = SourceRecord("cart-1", {"name": "Abandoned cart — أحمد"}, T0, initial={"stage": "new"})
    await sources.upsert_records(connection, catalogue, "opportunities", [deal])
    deal_id = await connection.fetchval("SELECT id FROM opportunities WHERE salla_id = 'cart-1'")
    await connection.execute("UPDATE opportunities SET stage = 'meeting' WHERE id = $1", deal_id)
    later = SourceRecord(
        "cart-1",
        {"name": "Abandoned cart — أحمد", "amount": {"amount": "99.50"}},
        T0 + timedelta(1),
        {},
        {"stage": "new"},
    )
    await sources.upsert_records(connection, catalogue, "opportunities", [later])
    await sources.upsert_records(connection, catalogue, "products", [SourceRecord("p1", {"name": "عود"}, T0)])

    deleted = await sources.delete_by_source(connection, catalogue, "products", "p1", at=T0 + timedelta(1))
    again = await sources.delete_by_source(connection, catalogue, "products", "p1")
    late_update = await sources.upsert_records(
        connection, catalogue, "products", [SourceRecord("p1", {"name": "X"}, T0)]
    )

    stored = await connection.fetchrow("SELECT * FROM opportunities WHERE id = $1", deal_id)
    assert (stored["stage"], stored["amount_amount_minor"]) == ("meeting", 9950)
    assert (deleted, again) == (True, False)
    product = await connection.fetchrow("SELECT * FROM products WHERE salla_id = 'p1'")
    assert product["deleted_at"] is not None
    assert product["name"] == "عود"
    assert late_update.updated == 0
    events = await records.timeline(connection, catalogue.objects["products"], product["id"])
    assert [event["kind"] for event in events] == ["deleted"]
    assert uuid.UUID(str(product["id"]))
