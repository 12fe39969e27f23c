"""The reads every page makes are planned once per connection: PostgreSQL keeps one generic plan for a prepared
statement only while that plan looks no dearer than one made for the values, and a statement it re-plans costs
it ~0.1 ms on every call. Also: reading records by id still gives the most recently updated first, the newest
``limit`` of more."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from httpx import AsyncClient

from app.crm import query, records
from app.crm.metadata import ObjectDefinition, load_catalogue
from app.crm.pages.list_data import fetch_list_page
from app.crm.records import Actor
from app.crm.repository import live_records
from app.crm.services import crm_connection
from app.settings import Settings
from tests.conftest import World

SYSTEM = Actor(source="system")
CALLS = 12


@pytest.fixture
async def acme(client: AsyncClient, world: World, settings: Settings) -> AsyncIterator[asyncpg.Connection]:
    async with crm_connection(world.acme, settings) as connection:
        yield connection


async def _people(connection: asyncpg.Connection, count: int) -> tuple[ObjectDefinition, list[uuid.UUID]]:
    people = (await load_catalogue(connection)).get("people")
    assert people is not None
    made = [await records.create_record(connection, people, {"first_name": f"P{n}"}, SYSTEM) for n in range(count)]
    return people, [uuid.UUID(record["id"]) for record in made]


async def _plans(connection: asyncpg.Connection, statement_start: str) -> tuple[int, int]:
    """How often PostgreSQL used the generic plan, and made one for the values, of the statement that starts so
    and takes parameters."""
    row = await connection.fetchrow(
        "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
        "WHERE statement LIKE $1 || '%' AND statement LIKE '%$1%'",
        statement_start,
    )
    assert row is not None, f"no prepared statement starting {statement_start!r}"
    return row["generic_plans"], row["custom_plans"]


async def _many_people(connection: asyncpg.Connection, count: int) -> None:
    """``count`` more people, straight into the table, and fresh statistics: the planner's choices depend on them."""
    await connection.execute(
        "INSERT INTO people (first_name, search_text) "
        "SELECT 'Guest ' || n, 'guest ' || n FROM generate_series(1, $1) AS n",
        count,
    )
    await connection.execute("ANALYZE people")


async def test_reading_records_by_id_is_planned_once(acme: asyncpg.Connection) -> None:
    people, ids = await _people(acme, 8)
    await _many_people(acme, 5000)

    for call in range(CALLS):
        await live_records(acme, people, ids[call % 4 : call % 4 + 5], limit=1000)

    generic, custom = await _plans(acme, 'SELECT * FROM "people" WHERE id = ANY')
    assert (generic, custom) == (CALLS - 5, 5)  # PostgreSQL tries five plans for the values first


async def test_a_list_page_after_a_cursor_is_planned_once(acme: asyncpg.Connection) -> None:
    people, _ids = await _people(acme, 8)
    fields = [field for field in people.fields if field.name in ("first_name", "city")]
    sorts = query.parse_sorts("created_at:desc")
    first = await fetch_list_page(acme, people, fields=fields, filter=None, sorts=sorts, limit=2)
    assert first.next_cursor is not None

    for _call in range(CALLS):
        await fetch_list_page(acme, people, fields=fields, filter=None, sorts=sorts, after=first.next_cursor, limit=2)

    generic, custom = await _plans(acme, 'SELECT "id", "first_name", "city", "created_at" FROM "people" WHERE')
    assert custom <= 5
    assert generic >= CALLS - 5


async def test_records_by_id_come_most_recently_updated_first(acme: asyncpg.Connection) -> None:
    people, ids = await _people(acme, 4)
    await records.update_record(acme, people, ids[1], {"city": "Taif"}, SYSTEM)
    await records.delete_record(acme, people, ids[2], SYSTEM)

    every = await live_records(acme, people, ids, limit=10)
    newest_two = await live_records(acme, people, ids, limit=2)

    assert [row["id"] for row in every] == [ids[1], ids[3], ids[0]]
    assert [row["id"] for row in newest_two] == [ids[1], ids[3]]
