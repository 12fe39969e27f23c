"""A broad term (more than `CANDIDATES_PER_HIT` matches in one object for each hit shown) is ranked among its newest
matches only, and the same candidates are chosen whichever way search finds them: walking the newest rows by
``created_at`` (a term broad among the newest `SAMPLE_ROWS`), the trigram index (a term that is not), or both (a
walk that finds too few). These tests show three hits an object: 30 candidates, 600 rows walked."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from redis.asyncio import Redis
from saq import Queue

from app.crm import schema_changes
from app.crm.metadata import load_catalogue
from app.crm.search import CANDIDATES_PER_HIT, SAMPLE_ROWS, WALKED_ROWS_PER_CANDIDATE, search_everything
from app.crm.search_text import search_text
from app.settings import Settings
from app.tenancy import runtime
from app.tenancy.repository import TenantRecord
from app.tenancy.services import tenant_database
from tests.people import create_organization

NOW = datetime(2026, 11, 1, tzinfo=UTC)
SHOWN = 3
CANDIDATES = CANDIDATES_PER_HIT * SHOWN
WALKED_ROWS = WALKED_ROWS_PER_CANDIDATE * CANDIDATES


@pytest.fixture
async def acme(settings: Settings, redis: Redis, queue: Queue) -> TenantRecord:
    return await create_organization(settings, redis, queue, slug="acme", owner="alice@example.com")


@pytest.fixture
async def connection(settings: Settings, acme: TenantRecord) -> AsyncIterator[asyncpg.Connection]:
    pools = await runtime.open_pools(settings)
    async with pools.connection(await tenant_database(acme, settings)) as connection:
        yield connection


async def _add_people(connection: asyncpg.Connection, first_names: list[str]) -> None:
    """People created (and last changed) one minute apart, the first of the list the newest."""
    already = await connection.fetchval("SELECT count(*) FROM people")
    rows = [
        (uuid.uuid4(), NOW - timedelta(minutes=n), NOW - timedelta(minutes=n), name, search_text([name]))
        for n, name in enumerate(first_names, start=already)
    ]
    await connection.copy_records_to_table(
        "people", records=rows, columns=["id", "created_at", "updated_at", "first_name", "search_text"]
    )


async def _found(connection: asyncpg.Connection, term: str, shown: int = SHOWN) -> list[str]:
    catalogue = await load_catalogue(connection)
    found = await search_everything(connection, catalogue, term, per_object=shown)
    return [person["first_name"] for person in found.get("people", [])]


async def test_it_ranks_a_whole_word_first_among_the_newest_matches(connection: asyncpg.Connection) -> None:
    partial = ["Samira"] * (CANDIDATES + 50)
    partial[CANDIDATES - 1] = "Sam"  # the last of the candidates
    await _add_people(connection, [*partial, "Sam Old"])  # the 81st newest match: not a candidate

    assert await _found(connection, "sam") == ["Sam", "Samira", "Samira"]


async def test_it_finds_matches_older_than_the_recent_rows(connection: asyncpg.Connection) -> None:
    await _add_people(connection, ["Khalid"] * WALKED_ROWS)
    await _add_people(connection, ["Samira", "Sam", "Samson"])

    assert await _found(connection, "sam") == ["Sam", "Samira", "Samson"]
    assert await _found(connection, "zzz") == []


async def test_it_keeps_the_newest_candidates_of_a_broad_term_beyond_the_recent_rows(
    connection: asyncpg.Connection,
) -> None:
    await _add_people(connection, ["Khalid"] * WALKED_ROWS)
    older = ["Samira"] * (CANDIDATES + 50)
    older[CANDIDATES - 1] = "Sam"
    await _add_people(connection, [*older, "Sam Old"])

    assert await _found(connection, "sam") == ["Sam", "Samira", "Samira"]


async def test_it_keeps_looking_when_a_term_broad_among_the_newest_rows_thins_out(
    connection: asyncpg.Connection,
) -> None:
    newest = ["Samira" if n % 20 == 0 else "Khalid" for n in range(SAMPLE_ROWS)]  # one in twenty: broad here
    older = ["Samira"] * (CANDIDATES + 50)
    older[CANDIDATES - SAMPLE_ROWS // 20 - 1] = "Sam"  # the last candidate: only the walk's matches are newer
    await _add_people(connection, [*newest, *["Khalid"] * WALKED_ROWS, *older, "Sam Old"])

    assert await _found(connection, "sam") == ["Sam", "Samira", "Samira"]


async def test_it_breaks_ties_in_creation_time_the_same_way_on_every_path(connection: asyncpg.Connection) -> None:
    """Records made in one transaction (an import) share their creation time: the newest candidates are then the
    first by id, whether the walk or the trigram index found them."""
    ids = sorted(uuid.uuid4() for _ in range(CANDIDATES + 51))
    made_together = NOW - timedelta(days=30)
    rows = [(ids[-1], made_together, NOW, "Sam", search_text(["Sam"]))]  # stored first, but last by id
    rows += [(ids[n], made_together, NOW, "Samira", search_text(["Samira"])) for n in range(CANDIDATES + 50)]
    await connection.copy_records_to_table(
        "people", records=rows, columns=["id", "created_at", "updated_at", "first_name", "search_text"]
    )
    walked = await _found(connection, "sam")
    await _add_people(connection, ["Khalid"] * WALKED_ROWS)  # newer: the same matches now come from the index

    assert walked == ["Samira", "Samira", "Samira"]
    assert await _found(connection, "sam") == walked


async def test_it_ranks_among_more_matches_where_more_hits_are_shown(connection: asyncpg.Connection) -> None:
    """The palette shows five hits an object and ranks a broad term among its newest 50 matches; the search page
    shows twenty and ranks among 200."""
    partial = ["Samira"] * (20 * CANDIDATES_PER_HIT)
    partial[-1] = "Sam"  # the 200th newest match
    await _add_people(connection, partial)

    assert (await _found(connection, "sam", shown=5))[0] == "Samira"
    assert (await _found(connection, "sam", shown=20))[0] == "Sam"


async def test_it_ignores_deleted_matches(connection: asyncpg.Connection) -> None:
    await _add_people(connection, ["Sam", "Samira"])
    await connection.execute("UPDATE people SET deleted_at = now() WHERE first_name = 'Sam'")

    assert await _found(connection, "sam") == ["Samira"]


async def test_it_walks_every_object_newest_first_through_an_index(
    connection: asyncpg.Connection, acme: TenantRecord
) -> None:
    """Without one, each search read and sorted every row of the object's table (tenant migration 0012)."""
    await schema_changes.create_object(
        connection,
        acme,
        schema_changes.NewObject(
            name="suppliers",
            singular="supplier",
            label_singular_en="Supplier",
            label_singular_ar="مورد",
            label_plural_en="Suppliers",
            label_plural_ar="موردون",
        ),
    )
    tables = [obj.table_name for obj in (await load_catalogue(connection)).objects.values()]
    newest_first = {
        row["tablename"]
        for row in await connection.fetch(
            "SELECT tablename FROM pg_indexes WHERE indexdef LIKE '%(created_at DESC, id) WHERE (deleted_at IS NULL)'"
        )
    }

    assert f"{schema_changes.CUSTOM_TABLE_PREFIX}suppliers" in tables
    assert [table for table in tables if table not in newest_first] == []
