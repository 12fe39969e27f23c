from __future__ import annotations

import uuid

import pytest

from app.crm import records
from app.crm.fields import RecordInvalid
from app.crm.records import Actor, RecordNotFound

ALICE = Actor(source="user", id="alice-id", name="alice@example.com")
SALLA = Actor(source="salla")


async def test_it_creates_a_customer_with_normalised_values_and_who_made_it(crm) -> None:  # type: ignore[no-untyped-def]
    connection, catalogue = crm
    people = catalogue.objects["people"]

    person = await records.create_record(
        connection,
        people,
        {"first_name": " أَحمد ", "last_name": "Al-Ghamdi", "email": "Ahmed@Example.COM", "phone": "0501234567"},
        ALICE,
    )

    assert person["first_name"] == "أَحمد"
    assert person["email"]["primary"] == "ahmed@example.com"
    assert person["phone"]["primary"] == "+966501234567"
    assert person["created_by"] == {"source": "user", "id": "alice-id", "name": "alice@example.com"}
    stored = await connection.fetchval("SELECT search_text FROM people WHERE id = $1", uuid.UUID(person["id"]))
    assert "احمد" in stored
    assert "0501234567" in stored
    assert "al-ghamdi" in stored


async def test_invalid_values_are_refused_field_by_field_and_nothing_is_stored(crm) -> None:  # type: ignore[no-untyped-def]
    connection, catalogue = crm

    with pytest.raises(RecordInvalid) as refused:
        await records.create_record(
            connection,
            catalogue.objects["people"],
            {"first_name": "Sara", "email": "not-an-email", "phone": "12", "shoe_size": 42},
            ALICE,
        )

    assert set(refused.value.errors) == {"email", "phone", "shoe_size"}
    assert await connection.fetchval("SELECT count(*) FROM people") == 0


async def test_an_update_records_only_what_changed_with_the_actor(crm) -> None:  # type: ignore[no-untyped-def]
    connection, catalogue = crm
    deals = catalogue.objects["opportunities"]
    deal = await records.create_record(
        connection,
        deals,
        {"name": "Eid bundle", "stage": "new", "amount": {"amount": "1500", "currency": "SAR"}},
        ALICE,
    )

    updated = await records.update_record(
        connection, deals, uuid.UUID(deal["id"]), {"stage": "proposal", "name": "Eid bundle"}, SALLA
    )

    assert updated["stage"] == "proposal"
    assert updated["updated_by"]["source"] == "salla"
    events = await records.timeline(connection, deals, uuid.UUID(deal["id"]))
    assert [event["kind"] for event in events] == ["updated", "created"]
    assert events[0]["changes"] == {"stage": ["new", "proposal"]}
    assert events[0]["actor"]["source"] == "salla"
    assert events[1]["changes"]["amount"][1]["amount_minor"] == 150000


async def test_a_deleted_record_is_gone_until_restored(crm) -> None:  # type: ignore[no-untyped-def]
    connection, catalogue = crm
    products = catalogue.objects["products"]
    product = await records.create_record(connection, products, {"name": "Oud oil", "sku": "OUD-1"}, ALICE)
    product_id = uuid.UUID(product["id"])

    await records.delete_record(connection, products, product_id, ALICE)
    with pytest.raises(RecordNotFound):
        await records.get_record(connection, products, product_id)
    with pytest.raises(RecordNotFound):
        await records.update_record(connection, products, product_id, {"sku": "OUD-2"}, ALICE)
    restored = await records.restore_record(connection, products, product_id, ALICE)

    assert restored["deleted_at"] is None
    assert (await records.get_record(connection, products, product_id))["sku"] == "OUD-1"
    kinds = [event["kind"] for event in await records.timeline(connection, products, product_id)]
    assert kinds == ["restored", "deleted", "created"]


async def test_a_required_field_cannot_be_cleared(crm) -> None:  # type: ignore[no-untyped-def]
    connection, catalogue = crm
    companies = catalogue.objects["companies"]
    company = await records.create_record(connection, companies, {"name": "Noor Trading"}, ALICE)

    with pytest.raises(RecordInvalid) as refused:
        await records.update_record(connection, companies, uuid.UUID(company["id"]), {"name": None}, ALICE)

    assert "name" in refused.value.errors
    assert (await records.get_record(connection, companies, uuid.UUID(company["id"])))["name"] == "Noor Trading"


async def test_a_record_id_that_does_not_exist_is_not_found(crm) -> None:  # type: ignore[no-untyped-def]
    connection, catalogue = crm

    with pytest.raises(RecordNotFound):
        await records.get_record(connection, catalogue.objects["people"], uuid.uuid4())
