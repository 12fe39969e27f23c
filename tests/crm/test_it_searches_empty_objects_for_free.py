"""An object whose table has never held a row is asked only its table's size on disk, not searched; the moment its
table holds a row, the object is searched like any other, in that very call."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from redis.asyncio import Redis
from saq import Queue

from app.crm.metadata import Catalogue, load_catalogue
from app.crm.search import search_everything
from app.crm.search_text import search_text
from app.settings import Settings
from app.tenancy import runtime
from app.tenancy.pools import TenantDatabase
from app.tenancy.repository import TenantRecord
from app.tenancy.services import tenant_database
from tests.people import create_organization


@pytest.fixture
async def acme(settings: Settings, redis: Redis, queue: Queue) -> TenantRecord:
    return await create_organization(settings, redis, queue, slug="acme", owner="alice@example.com")


@pytest.fixture
async def database(settings: Settings, acme: TenantRecord) -> TenantDatabase:
    await runtime.open_pools(settings)
    return await tenant_database(acme, settings)


@pytest.fixture
async def connection(database: TenantDatabase) -> AsyncIterator[asyncpg.Connection]:
    async with runtime.pools().connection(database) as connection:
        yield connection


async def _add_company(connection: asyncpg.Connection, name: str) -> None:
    await connection.execute("INSERT INTO companies (name, search_text) VALUES ($1, $2)", name, search_text([name]))


async def _index_scans(connection: asyncpg.Connection, table: str) -> int:
    """Index scans of ``table`` by this connection's current transaction."""
    scans: int = await connection.fetchval(
        "SELECT coalesce(idx_scan, 0) + coalesce(seq_scan, 0) FROM pg_stat_xact_user_tables WHERE relname = $1", table
    )
    return scans


async def test_it_reads_nothing_of_an_object_that_never_held_a_record(connection: asyncpg.Connection) -> None:
    catalogue = await load_catalogue(connection)
    await connection.execute("INSERT INTO people (first_name, search_text) VALUES ('Huda', $1)", search_text(["Huda"]))

    async with connection.transaction():
        await search_everything(connection, catalogue, "huda")
        await search_everything(connection, catalogue, "huda")
        companies, people = await _index_scans(connection, "companies"), await _index_scans(connection, "people")

    assert companies == 0
    assert people > 0


async def test_it_finds_the_first_record_of_an_object_at_once(connection: asyncpg.Connection) -> None:
    catalogue = await load_catalogue(connection)
    assert await search_everything(connection, catalogue, "nahdi") == {}

    await _add_company(connection, "Nahdi Medical")
    found = await search_everything(connection, catalogue, "nahdi")

    assert [company["name"] for company in found["companies"]] == ["Nahdi Medical"]


async def test_it_finds_a_record_that_another_process_added_to_an_empty_object(
    connection: asyncpg.Connection, database: TenantDatabase
) -> None:
    companies = Catalogue(objects={"companies": (await load_catalogue(connection)).objects["companies"]})
    assert await search_everything(connection, companies, "jarir") == {}

    other = await asyncpg.connect(database.dsn)
    try:
        await _add_company(other, "Jarir Bookstore")
    finally:
        await other.close()

    for _ in range(2):  # the call that finds the table filled, and the calls after it
        found = await search_everything(connection, companies, "jarir")
        assert [company["name"] for company in found["companies"]] == ["Jarir Bookstore"]


async def test_a_table_that_held_a_row_once_is_searched_and_finds_nothing_gone(
    connection: asyncpg.Connection,
) -> None:
    catalogue = await load_catalogue(connection)
    transaction = connection.transaction()
    await transaction.start()
    await _add_company(connection, "Extra Stores")  # the table's file grows, and stays grown
    await transaction.rollback()

    assert await search_everything(connection, catalogue, "extra") == {}
    assert await search_everything(connection, catalogue, "extra") == {}
