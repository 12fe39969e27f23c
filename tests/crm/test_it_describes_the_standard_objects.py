"""The standard objects' tables (migrations/tenant/0002) and their field descriptions (crm_fields) must agree
with the column rules of app/crm/fields.py, in a real provisioned tenant database."""

from __future__ import annotations

import asyncpg
from redis.asyncio import Redis
from saq import Queue

from app.crm.fields import columns
from app.crm.metadata import load_catalogue
from app.settings import Settings
from app.tenancy.services import tenant_database
from tests.people import create_organization

RECORD_COLUMNS = {
    "id", "created_at", "updated_at", "created_by_source", "created_by_id", "created_by_name", "updated_by_source",
    "updated_by_id", "updated_by_name", "deleted_at", "position", "search_text", "search_vector",
}  # fmt: skip
# How information_schema spells the types fields.py asks for.
SQL_TYPES = {
    "text": "text",
    "numeric": "numeric",
    "bigint": "bigint",
    "smallint": "smallint",
    "boolean": "boolean",
    "date": "date",
    "timestamptz": "timestamp with time zone",
    "uuid": "uuid",
    "jsonb": "jsonb",
    "text[]": "ARRAY",
    "char(3)": "character",
    "character(3)": "character",
    "char(2)": "character",
    "character(2)": "character",
}


async def _describe(connection: asyncpg.Connection, table: str) -> dict[str, str]:
    rows = await connection.fetch(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $1", table
    )
    return {row["column_name"]: row["data_type"] for row in rows}


async def test_every_field_has_exactly_its_columns_with_the_right_types(
    settings: Settings, redis: Redis, queue: Queue
) -> None:
    tenant = await create_organization(settings, redis, queue, slug="acme", owner="alice@example.com")
    connection = await asyncpg.connect((await tenant_database(tenant, settings)).dsn)
    try:
        catalogue = await load_catalogue(connection)
        described = {name: await _describe(connection, obj.table_name) for name, obj in catalogue.objects.items()}
    finally:
        await connection.close()

    assert set(catalogue.objects) == {
        "people", "companies", "opportunities", "tasks", "notes", "products", "orders", "order_items",
    }  # fmt: skip
    for name, obj in catalogue.objects.items():
        table = described[name]
        expected = {
            column.name: SQL_TYPES.get(column.sql_type, column.sql_type) for f in obj.fields for column in columns(f)
        }
        synced = {"salla_updated_at"} if obj.field("salla_id") else set()
        synced |= {"customer_salla_id"} if name == "orders" else set()  # an order waiting for its customer (0010)
        assert set(table) == RECORD_COLUMNS | synced | set(expected), name
        for column, sql_type in expected.items():
            assert table[column] == sql_type, f"{name}.{column}: {table[column]} is not {sql_type}"


async def test_the_issue_names_the_api_fields_merchants_see(settings: Settings, redis: Redis, queue: Queue) -> None:
    tenant = await create_organization(settings, redis, queue, slug="acme", owner="alice@example.com")
    connection = await asyncpg.connect((await tenant_database(tenant, settings)).dsn)
    try:
        catalogue = await load_catalogue(connection)
    finally:
        await connection.close()

    names = {name: {f.name for f in obj.fields} for name, obj in catalogue.objects.items()}
    assert {"first_name", "last_name", "email", "phone", "city", "country", "salla_id"} <= names["people"]
    assert {"name", "sku", "price", "salla_id"} <= names["products"]
    assert {"reference", "status", "total", "customer", "salla_id"} <= names["orders"]
    assert {"name", "stage", "amount", "close_date", "point_of_contact"} <= names["opportunities"]
    stage = catalogue.objects["opportunities"].field("stage")
    assert stage is not None
    assert [option.value for option in stage.options][:5] == ["new", "screening", "meeting", "proposal", "customer"]
    assert all(option.label_ar for option in stage.options)
