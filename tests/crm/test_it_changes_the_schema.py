"""Custom fields and objects (issue 4, item 3): real columns and tables, changed through /api/v1/metadata with an
API key, each change one transaction with its metadata, serialised per tenant."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar

from app.accounts import api_keys
from app.crm import schema_changes, views
from app.crm.fields import FieldDefinition, FieldType
from app.crm.metadata import load_catalogue
from app.crm.schema_changes import SchemaConflict
from app.crm.schema_routes import METADATA_ROUTES
from app.crm.services import crm_connection
from app.factory import create_app
from app.settings import Settings
from app.tenancy.repository import TenantRecord
from app.tenancy.services import tenant_database
from tests.conftest import World, app_client

LOYALTY = {
    "name": "loyalty_tier",
    "type": "select",
    "label_en": "Loyalty tier",
    "label_ar": "فئة الولاء",
    "options": [
        {"value": "gold", "label_en": "Gold", "label_ar": "ذهبي", "color": "yellow"},
        {"value": "silver", "label_en": "Silver", "label_ar": "فضي", "color": "gray"},
        {"value": "bronze", "label_en": "Bronze", "label_ar": "برونزي", "color": "orange"},
    ],
}
TICKETS = {
    "name": "tickets",
    "singular": "ticket",
    "label_singular_en": "Ticket",
    "label_singular_ar": "تذكرة",
    "label_plural_en": "Tickets",
    "label_plural_ar": "التذاكر",
}


def _text_field(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": "text", "label_en": name.title(), "label_ar": "حقل", **extra}


@dataclass(frozen=True)
class Api:
    http: httpx.AsyncClient
    acme: dict[str, str]
    noor: dict[str, str]
    world: World
    settings: Settings

    async def db(self, tenant: TenantRecord | None = None) -> asyncpg.Connection:
        """A direct connection to a tenant's database (acme's by default), to look behind the API."""
        return await asyncpg.connect((await tenant_database(tenant or self.world.acme, self.settings)).dsn)


def _with_metadata_routes(app: Litestar) -> Litestar:
    """The app with METADATA_ROUTES, whether or not the factory registers them already."""
    if not any(route.path.startswith("/api/v1/metadata") for route in app.routes):
        app.register(METADATA_ROUTES)
    return app


@pytest.fixture
async def api(settings: Settings, world: World) -> AsyncIterator[Api]:
    _, acme = await api_keys.create_api_key(world.acme.id, "acme", name="acme admin", actor="test")
    _, noor = await api_keys.create_api_key(world.noor.id, "noor", name="noor admin", actor="test")
    async with app_client(_with_metadata_routes(create_app(settings))) as http:
        yield Api(http, {"Authorization": f"Bearer {acme}"}, {"Authorization": f"Bearer {noor}"}, world, settings)


async def _columns(connection: asyncpg.Connection, table: str) -> dict[str, str]:
    """column name -> is_nullable ("YES"/"NO") of a table as PostgreSQL has it."""
    rows = await connection.fetch(
        "SELECT column_name, is_nullable FROM information_schema.columns WHERE table_name = $1", table
    )
    return {row["column_name"]: row["is_nullable"] for row in rows}


async def _snapshot(connection: asyncpg.Connection) -> tuple[Any, ...]:
    """Everything a refused change must leave as it was: tables, columns and metadata rows."""
    return (
        await connection.fetch(
            "SELECT table_name, column_name, is_nullable FROM information_schema.columns"
            " WHERE table_schema = 'public' ORDER BY 1, 2"
        ),
        await connection.fetch("SELECT * FROM crm_objects ORDER BY name"),
        await connection.fetch("SELECT object_name, name, label_en, options, required FROM crm_fields ORDER BY 1, 2"),
        await connection.fetch("SELECT indexname FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1"),
    )


async def test_it_describes_every_object_with_its_fields(api: Api) -> None:
    response = await api.http.get("/api/v1/metadata/objects", headers=api.acme)
    no_key = await api.http.get("/api/v1/metadata/objects")

    assert response.status_code == 200, response.text
    objects = {obj["name"]: obj for obj in response.json()["data"]}
    assert {"people", "companies", "opportunities", "products", "orders"} <= set(objects)
    stage = next(field for field in objects["opportunities"]["fields"] if field["name"] == "stage")
    assert stage["type"] == "select"
    assert stage["options"][0] == {"value": "new", "label_en": "New", "label_ar": "جديدة", "color": "blue"}
    assert objects["people"]["label_plural_ar"] == "العملاء"
    assert not objects["people"]["is_custom"]
    assert not any(field["is_custom"] for field in objects["people"]["fields"])
    assert no_key.status_code == 401


async def test_a_custom_field_is_added_renamed_and_removed_and_its_values_survive_the_rename(api: Api) -> None:
    added = await api.http.post(
        "/api/v1/metadata/objects/people/fields", json=_text_field("nickname", label_en="Nickname"), headers=api.acme
    )
    person = await api.http.post("/api/v1/people", json={"first_name": "Sara", "nickname": "Sasa"}, headers=api.acme)
    taken = await api.http.patch(
        "/api/v1/metadata/objects/people/fields/nickname", json={"name": "first_name"}, headers=api.acme
    )
    unsafe = await api.http.patch(
        "/api/v1/metadata/objects/people/fields/nickname", json={"name": 'x"; DROP TABLE people; --'}, headers=api.acme
    )
    renamed = await api.http.patch(
        "/api/v1/metadata/objects/people/fields/nickname",
        json={"name": "alias", "label_en": "Alias", "label_ar": "اللقب"},
        headers=api.acme,
    )
    read = await api.http.get(f"/api/v1/people/{person.json()['id']}", headers=api.acme)
    db = await api.db()
    try:
        after_rename = await _columns(db, "people")
        row = await db.fetchrow("SELECT * FROM crm_fields WHERE object_name = 'people' AND name = 'alias'")
        removed = await api.http.delete("/api/v1/metadata/objects/people/fields/alias", headers=api.acme)
        after_removal = await _columns(db, "people")
        rows_left = await db.fetchval("SELECT count(*) FROM crm_fields WHERE name IN ('alias', 'nickname')")
    finally:
        await db.close()
    read_again = await api.http.get(f"/api/v1/people/{person.json()['id']}", headers=api.acme)

    assert added.status_code == 201, added.text
    assert added.json()["is_custom"] is True
    assert person.status_code == 201, person.text
    assert (taken.status_code, unsafe.status_code) == (409, 400)
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "alias"
    assert read.json()["alias"] == "Sasa"
    assert "nickname" not in read.json()
    assert "alias" in after_rename
    assert "nickname" not in after_rename
    assert (row["label_en"], row["label_ar"], row["is_custom"]) == ("Alias", "اللقب", True)
    assert removed.status_code == 204
    assert "alias" not in after_removal
    assert rows_left == 0
    assert read_again.json()["first_name"] == "Sara"
    assert "alias" not in read_again.json()


async def test_records_use_a_new_select_field_through_the_records_api(api: Api) -> None:
    added = await api.http.post("/api/v1/metadata/objects/people/fields", json=LOYALTY, headers=api.acme)
    for name, tier in (("Sara", "gold"), ("Omar", "silver"), ("Huda", "gold")):
        created = await api.http.post(
            "/api/v1/people", json={"first_name": name, "loyalty_tier": tier}, headers=api.acme
        )
        assert created.status_code == 201, created.text
    wrong = await api.http.post("/api/v1/people", json={"first_name": "X", "loyalty_tier": "diamond"}, headers=api.acme)

    gold = await api.http.get(
        "/api/v1/people", params={"filter": 'loyalty_tier[eq]:"gold"', "sort": "first_name"}, headers=api.acme
    )

    assert added.status_code == 201, added.text
    assert [person["first_name"] for person in gold.json()["data"]] == ["Huda", "Sara"]
    assert wrong.status_code == 400
    assert "loyalty_tier" in wrong.json()["errors"]


async def test_options_that_records_still_use_cannot_be_removed(api: Api) -> None:
    await api.http.post("/api/v1/metadata/objects/people/fields", json=LOYALTY, headers=api.acme)
    for tier in ("gold", "gold", "silver"):
        await api.http.post("/api/v1/people", json={"first_name": "P", "loyalty_tier": tier}, headers=api.acme)
    bronze, platinum = LOYALTY["options"][2], {"value": "platinum", "label_en": "Platinum", "label_ar": "بلاتيني"}

    refused = await api.http.patch(
        "/api/v1/metadata/objects/people/fields/loyalty_tier", json={"options": [bronze]}, headers=api.acme
    )
    changed = await api.http.patch(
        "/api/v1/metadata/objects/people/fields/loyalty_tier",
        json={"options": [*LOYALTY["options"][:2], platinum]},
        headers=api.acme,
    )

    assert refused.status_code == 400
    assert "gold (2 records)" in refused.json()["detail"]
    assert "silver (1 records)" in refused.json()["detail"]
    assert changed.status_code == 200, changed.text
    assert [option["value"] for option in changed.json()["options"]] == ["gold", "silver", "platinum"]
    platinum_person = await api.http.post(
        "/api/v1/people", json={"first_name": "New", "loyalty_tier": "platinum"}, headers=api.acme
    )
    assert platinum_person.status_code == 201, platinum_person.text


async def test_new_fields_fill_existing_records_and_get_their_constraints(api: Api) -> None:
    await api.http.post("/api/v1/people", json={"first_name": "Sara"}, headers=api.acme)
    visits = {"name": "visits", "type": "number", "label_en": "Visits", "label_ar": "الزيارات", "required": True}
    contact = {"name": "contact", "type": "full_name", "label_en": "Contact", "label_ar": "جهة الاتصال"}

    refused = await api.http.post("/api/v1/metadata/objects/people/fields", json=visits, headers=api.acme)
    added = await api.http.post(
        "/api/v1/metadata/objects/people/fields", json={**visits, "default": 0}, headers=api.acme
    )
    searchable = await api.http.post(
        "/api/v1/metadata/objects/people/fields",
        json={**contact, "default": {"first": "Retail", "last": "Desk"}, "searchable": True},
        headers=api.acme,
    )
    unique = await api.http.post(
        "/api/v1/metadata/objects/people/fields",
        json={"name": "work_email", "type": "emails", "label_en": "Work", "label_ar": "العمل", "unique": True},
        headers=api.acme,
    )
    listed = await api.http.get("/api/v1/people", headers=api.acme)
    found = await api.http.get("/api/v1/search", params={"q": "retail"}, headers=api.acme)
    db = await api.db()
    try:
        nullable = (await _columns(db, "people"))["visits"]
        index = await db.fetchval(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'people' AND indexdef LIKE '%work_email_primary%'"
        )
    finally:
        await db.close()

    assert refused.status_code == 400
    assert "default" in refused.json()["detail"]
    assert added.status_code == 201, added.text
    assert searchable.status_code == 201, searchable.text
    assert [(p["visits"], p["contact"]) for p in listed.json()["data"]] == [(0, {"first": "Retail", "last": "Desk"})]
    assert nullable == "NO"
    assert [person["first_name"] for person in found.json()["results"]["people"]] == ["Sara"]
    assert unique.status_code == 201, unique.text
    assert index.startswith("CREATE UNIQUE INDEX")
    assert index.endswith("WHERE (deleted_at IS NULL)")


async def test_a_default_the_catalogue_cannot_read_back_is_refused_and_the_crm_keeps_working(api: Api) -> None:
    """Whatever becomes of a text default, the tenant's catalogue must stay readable."""
    response = await api.http.post(
        "/api/v1/metadata/objects/people/fields", json=_text_field("segment", default="retail"), headers=api.acme
    )
    person = await api.http.post("/api/v1/people", json={"first_name": "Sara"}, headers=api.acme)

    assert response.status_code in (201, 400), response.text
    assert person.status_code == 201, person.text
    if response.status_code == 201:
        assert person.json()["segment"] == "retail"


async def test_making_a_field_searchable_recomputes_the_search_text(api: Api) -> None:
    await api.http.post("/api/v1/metadata/objects/people/fields", json=_text_field("nickname"), headers=api.acme)
    await api.http.post("/api/v1/people", json={"first_name": "Sara", "nickname": "Zorro"}, headers=api.acme)

    before = await api.http.get("/api/v1/search", params={"q": "zorro"}, headers=api.acme)
    made = await api.http.patch(
        "/api/v1/metadata/objects/people/fields/nickname", json={"searchable": True}, headers=api.acme
    )
    after = await api.http.get("/api/v1/search", params={"q": "zorro"}, headers=api.acme)

    assert before.json()["results"] == {}
    assert made.status_code == 200, made.text
    assert [person["first_name"] for person in after.json()["results"]["people"]] == ["Sara"]


async def test_a_custom_object_is_created_filled_renamed_and_removed(api: Api) -> None:
    created = await api.http.post("/api/v1/metadata/objects", json=TICKETS, headers=api.acme)
    field = await api.http.post(
        "/api/v1/metadata/objects/tickets/fields",
        json={"name": "priority", "type": "rating", "label_en": "Priority", "label_ar": "الأولوية"},
        headers=api.acme,
    )
    ticket = await api.http.post("/api/v1/tickets", json={"name": "Late delivery", "priority": 4}, headers=api.acme)
    ticket_id = ticket.json()["id"]
    await api.http.patch(f"/api/v1/tickets/{ticket_id}", json={"priority": 5}, headers=api.acme)

    renamed = await api.http.patch(
        "/api/v1/metadata/objects/tickets",
        json={"name": "issues", "singular": "issue", "label_plural_en": "Issues"},
        headers=api.acme,
    )
    old_path = await api.http.get("/api/v1/tickets", headers=api.acme)
    listed = await api.http.get("/api/v1/issues", params={"filter": "priority[gte]:5"}, headers=api.acme)
    timeline = await api.http.get(f"/api/v1/issues/{ticket_id}/timeline", headers=api.acme)
    db = await api.db()
    try:
        assert set(await _columns(db, "c_issues")) >= {"id", "name", "priority", "search_text", "deleted_at"}
        assert await _columns(db, "c_tickets") == {}
        removed = await api.http.delete("/api/v1/metadata/objects/issues", headers=api.acme)
        tables_left = await db.fetchval("SELECT count(*) FROM pg_tables WHERE tablename LIKE 'c\\_%'")
        metadata_left = await db.fetchval(
            "SELECT (SELECT count(*) FROM crm_objects WHERE is_custom) + (SELECT count(*) FROM crm_fields"
            " WHERE object_name IN ('issues', 'tickets'))"
        )
        timeline_left = await db.fetchval(
            "SELECT count(*) FROM timeline_events WHERE record_id = $1", ticket.json()["id"]
        )
    finally:
        await db.close()
    gone = await api.http.get("/api/v1/issues", headers=api.acme)

    assert created.status_code == 201, created.text
    assert created.json()["is_custom"] is True
    assert [f["name"] for f in created.json()["fields"]] == ["name"]
    assert field.status_code == 201, field.text
    assert ticket.status_code == 201, ticket.text
    assert renamed.status_code == 200, renamed.text
    assert (renamed.json()["name"], renamed.json()["label_plural_en"]) == ("issues", "Issues")
    assert old_path.status_code == 404
    assert [(t["name"], t["priority"]) for t in listed.json()["data"]] == [("Late delivery", 5)]
    assert [event["kind"] for event in timeline.json()["data"]] == ["updated", "created"]
    assert removed.status_code == 204
    assert (tables_left, metadata_left, timeline_left) == (0, 0, 0)
    assert gone.status_code == 404


async def test_bad_field_definitions_are_refused_with_a_reason_and_change_nothing(api: Api) -> None:
    await api.http.post("/api/v1/people", json={"first_name": "Sara"}, headers=api.acme)
    db = await api.db()
    try:
        before = await _snapshot(db)
        for object_name, body, status, reason in (
            ("people", _text_field("x; DROP TABLE people"), 400, "snake_case"),
            ("people", _text_field('x" text, "y'), 400, "snake_case"),
            ("people", _text_field("Nickname"), 400, "snake_case"),
            ("people", _text_field("created_at"), 400, "reserved"),
            ("people", _text_field("id"), 400, "reserved"),
            ("people", _text_field("a" * 64), 400, "63"),
            ("people", _text_field("first_name"), 409, "first_name"),
            ("people", {**_text_field("email_primary")}, 409, "email_primary"),
            ("products", _text_field("price_currency"), 409, "price_currency"),
            ("people", {"name": "x", "type": "text", "label_ar": "س"}, 400, "label_en"),
            ("people", _text_field("x", label_en="   "), 400, "label_en"),
            ("people", _text_field("x", label_ar="ب" * 101), 400, "label_ar"),
            ("people", {**_text_field("x"), "type": "spaceship"}, 400, "spaceship"),
            ("people", {**LOYALTY, "options": []}, 400, "options"),
            ("people", {**_text_field("x"), "colour": "red"}, 400, "colour"),
            ("people", _text_field("x", required=True), 400, "default"),
            ("people", _text_field("x", unique=True, default="same"), 400, "unique"),
            ("people", {**_text_field("x"), "type": "relation"}, 400, "target"),
            ("people", _text_field("x", required="yes"), 400, "required"),
            ("spaceships", _text_field("x"), 404, "spaceships"),
        ):
            response = await api.http.post(
                f"/api/v1/metadata/objects/{object_name}/fields", json=body, headers=api.acme
            )
            assert response.status_code == status, (body, response.text)
            assert reason in response.json()["detail"], (body, response.text)
        not_a_json_object = await api.http.post("/api/v1/metadata/objects/people/fields", json=["x"], headers=api.acme)
        assert not_a_json_object.status_code == 400
        assert await _snapshot(db) == before
    finally:
        await db.close()


async def test_bad_objects_are_refused_with_a_reason_and_change_nothing(api: Api) -> None:
    db = await api.db()
    try:
        before = await _snapshot(db)
        for body, status, reason in (
            ({**TICKETS, "name": "people"}, 400, "reserved"),
            ({**TICKETS, "name": "search"}, 400, "reserved"),
            ({**TICKETS, "name": "metadata"}, 400, "reserved"),
            ({**TICKETS, "name": "workspace"}, 400, "reserved"),
            ({**TICKETS, "name": "x; DROP TABLE people"}, 400, "snake_case"),
            ({**TICKETS, "name": "Tickets"}, 400, "snake_case"),
            ({**TICKETS, "name": "t" * 62}, 400, "61"),
            ({**TICKETS, "singular": "a ticket"}, 400, "singular"),
            ({key: value for key, value in TICKETS.items() if key != "label_plural_ar"}, 400, "label_plural_ar"),
            ({**TICKETS, "label_singular_en": ""}, 400, "label_singular_en"),
        ):
            response = await api.http.post("/api/v1/metadata/objects", json=body, headers=api.acme)
            assert response.status_code == status, (body, response.text)
            assert reason in response.json()["detail"], (body, response.text)
        assert await _snapshot(db) == before

        assert (await api.http.post("/api/v1/metadata/objects", json=TICKETS, headers=api.acme)).status_code == 201
        with_tickets = await _snapshot(db)
        again = await api.http.post("/api/v1/metadata/objects", json=TICKETS, headers=api.acme)
        assert again.status_code == 409
        assert "tickets" in again.json()["detail"]
        assert await _snapshot(db) == with_tickets
    finally:
        await db.close()


async def test_standard_objects_and_fields_only_change_labels_options_and_search(api: Api) -> None:
    refusals = [
        await api.http.patch("/api/v1/metadata/objects/people", json={"name": "customers"}, headers=api.acme),
        await api.http.delete("/api/v1/metadata/objects/people", headers=api.acme),
        await api.http.patch(
            "/api/v1/metadata/objects/people/fields/first_name", json={"name": "given_name"}, headers=api.acme
        ),
        await api.http.patch(
            "/api/v1/metadata/objects/people/fields/first_name", json={"required": True}, headers=api.acme
        ),
        await api.http.patch("/api/v1/metadata/objects/people/fields/city", json={"type": "number"}, headers=api.acme),
        await api.http.delete("/api/v1/metadata/objects/people/fields/first_name", headers=api.acme),
    ]
    relabelled = await api.http.patch(
        "/api/v1/metadata/objects/people", json={"label_plural_en": "Clients"}, headers=api.acme
    )
    stage_options = [
        {"value": "new", "label_en": "New", "label_ar": "جديدة", "color": "blue"},
        {"value": "won", "label_en": "Won", "label_ar": "رابحة", "color": "green"},
    ]
    options = await api.http.patch(
        "/api/v1/metadata/objects/opportunities/fields/stage", json={"options": stage_options}, headers=api.acme
    )
    unknown = await api.http.delete("/api/v1/metadata/objects/people/fields/shoe_size", headers=api.acme)

    assert [response.status_code for response in refusals] == [400] * 6, [r.text for r in refusals]
    assert "standard" in refusals[0].json()["detail"]
    assert relabelled.status_code == 200
    assert relabelled.json()["label_plural_en"] == "Clients"
    assert options.status_code == 200, options.text
    deal = await api.http.post("/api/v1/opportunities", json={"name": "Eid", "stage": "won"}, headers=api.acme)
    assert deal.status_code == 201, deal.text
    assert unknown.status_code == 404


async def test_it_stops_at_100_custom_fields_per_object_and_50_custom_objects(api: Api) -> None:
    async with crm_connection(api.world.acme, api.settings) as connection:
        for number in range(schema_changes.MAX_CUSTOM_FIELDS):
            field = FieldDefinition(name=f"extra_{number}", type=FieldType.TEXT, label_en="Extra", label_ar="إضافي")
            await schema_changes.add_field(connection, api.world.acme, "notes", field)
        for number in range(schema_changes.MAX_CUSTOM_OBJECTS):
            new = schema_changes.new_object_from_json({**TICKETS, "name": f"things_{number}"})
            await schema_changes.create_object(connection, api.world.acme, new)

    one_field_more = await api.http.post(
        "/api/v1/metadata/objects/notes/fields", json=_text_field("extra_100"), headers=api.acme
    )
    one_object_more = await api.http.post(
        "/api/v1/metadata/objects", json={**TICKETS, "name": "things_50"}, headers=api.acme
    )
    elsewhere = await api.http.post(
        "/api/v1/metadata/objects/tasks/fields", json=_text_field("extra_0"), headers=api.acme
    )

    assert one_field_more.status_code == 400
    assert "100" in one_field_more.json()["detail"]
    assert one_object_more.status_code == 400
    assert "50" in one_object_more.json()["detail"]
    assert elsewhere.status_code == 201


async def test_concurrent_changes_are_serialised(api: Api) -> None:
    tenant = api.world.acme
    connections = [await api.db() for _ in range(10)]
    try:
        different = await asyncio.gather(
            *(
                schema_changes.add_field(
                    connection,
                    tenant,
                    "people",
                    FieldDefinition(name=f"parallel_{n}", type=FieldType.NUMBER, label_en="P", label_ar="ع"),
                )
                for n, connection in enumerate(connections)
            )
        )
        same = await asyncio.gather(
            *(
                schema_changes.add_field(
                    connection,
                    tenant,
                    "people",
                    FieldDefinition(name="twin", type=FieldType.CURRENCY, label_en="Twin", label_ar="توأم"),
                )
                for connection in connections[:2]
            ),
            return_exceptions=True,
        )
        columns = await _columns(connections[0], "people")
        positions = await connections[0].fetch(
            "SELECT name, position FROM crm_fields WHERE object_name = 'people' AND is_custom"
        )
        catalogue = await load_catalogue(connections[0])
    finally:
        for connection in connections:
            await connection.close()

    assert len(different) == 10
    assert {f"parallel_{n}" for n in range(10)} <= set(columns)
    assert {"twin_amount_minor", "twin_currency"} <= set(columns)
    assert len({row["position"] for row in positions}) == len(positions) == 11
    assert sum(isinstance(outcome, dict) for outcome in same) == 1
    assert sum(isinstance(outcome, SchemaConflict) for outcome in same) == 1
    people = catalogue.objects["people"]
    assert [field.name for field in people.fields].count("twin") == 1


async def test_renaming_and_removing_a_field_updates_saved_views(api: Api) -> None:
    await api.http.post("/api/v1/metadata/objects/people/fields", json=LOYALTY, headers=api.acme)
    amount = {"name": "spent", "type": "currency", "label_en": "Spent", "label_ar": "المنفق"}
    await api.http.post("/api/v1/metadata/objects/people/fields", json=amount, headers=api.acme)
    async with crm_connection(api.world.acme, api.settings) as connection:
        catalogue = await load_catalogue(connection)
        view = await views.create_view(
            connection,
            catalogue,
            {
                "object": "people",
                "label_en": "Big gold spenders",
                "label_ar": "كبار المنفقين",
                "filter": {"and": [{"field": "loyalty_tier", "op": "eq", "value": "gold"}]},
                "sorts": [{"field": "spent_amount_minor", "direction": "desc"}],
                "columns": ["first_name", "loyalty_tier", "spent"],
            },
            None,
        )

    await api.http.patch("/api/v1/metadata/objects/people/fields/loyalty_tier", json={"name": "tier"}, headers=api.acme)
    await api.http.patch("/api/v1/metadata/objects/people/fields/spent", json={"name": "total_spent"}, headers=api.acme)
    blocked = await api.http.delete("/api/v1/metadata/objects/people/fields/tier", headers=api.acme)
    dropped = await api.http.delete("/api/v1/metadata/objects/people/fields/total_spent", headers=api.acme)
    async with crm_connection(api.world.acme, api.settings) as connection:
        saved = await views.get_view(connection, uuid.UUID(view["id"]), None)

    assert blocked.status_code == 400
    assert "Big gold spenders" in blocked.json()["detail"]
    assert dropped.status_code == 204
    assert saved["filter"] == {"and": [{"field": "tier", "op": "eq", "value": "gold"}]}
    assert saved["sorts"] == []
    assert saved["columns"] == ["first_name", "tier"]


async def test_another_tenants_key_neither_sees_nor_changes_acmes_schema(api: Api) -> None:
    await api.http.post("/api/v1/metadata/objects", json=TICKETS, headers=api.acme)
    await api.http.post("/api/v1/metadata/objects/people/fields", json=LOYALTY, headers=api.acme)

    noor_sees = await api.http.get("/api/v1/metadata/objects", headers=api.noor)
    attempts = [
        await api.http.get("/api/v1/metadata/objects/tickets", headers=api.noor),
        await api.http.patch("/api/v1/metadata/objects/tickets", json={"label_plural_en": "Mine"}, headers=api.noor),
        await api.http.delete("/api/v1/metadata/objects/tickets", headers=api.noor),
        await api.http.post("/api/v1/metadata/objects/tickets/fields", json=_text_field("x"), headers=api.noor),
        await api.http.delete("/api/v1/metadata/objects/people/fields/loyalty_tier", headers=api.noor),
        await api.http.patch(
            "/api/v1/metadata/objects/people/fields/loyalty_tier", json={"label_en": "Mine"}, headers=api.noor
        ),
    ]
    acme_sees = await api.http.get("/api/v1/metadata/objects", headers=api.acme)

    noor_objects = {obj["name"]: obj for obj in noor_sees.json()["data"]}
    assert "tickets" not in noor_objects
    assert "loyalty_tier" not in {field["name"] for field in noor_objects["people"]["fields"]}
    assert [response.status_code for response in attempts] == [404] * 6
    acme_objects = {obj["name"]: obj for obj in acme_sees.json()["data"]}
    assert acme_objects["tickets"]["label_plural_en"] == "Tickets"
    loyalty = next(field for field in acme_objects["people"]["fields"] if field["name"] == "loyalty_tier")
    assert (loyalty["label_en"], loyalty["is_custom"]) == ("Loyalty tier", True)
