"""A schema change made anywhere is seen everywhere: each process remembers a tenant's catalogue by the version that
tenant migrations 0006 and 0011 bump on every change of crm_objects, crm_fields or views, and 0013 announces to
every pooled connection as it commits. The process that made the change sees it at once; the others as soon as the
notice reaches them; until something changes, a pooled connection does not ask."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import pytest
from asyncpg.connection import LoggedQuery
from redis.asyncio import Redis
from saq import Queue

from app.crm import services, views
from app.crm.metadata import Catalogue
from app.crm.services import RECHECK_SECONDS, catalogue_of
from app.lib.dsn import with_database
from app.settings import Settings
from app.tenancy import runtime
from app.tenancy.pools import TenantDatabase, TenantPools
from app.tenancy.repository import TenantRecord
from app.tenancy.services import tenant_database
from tests.conftest import eventually
from tests.people import create_organization

RENAME_PEOPLE = "UPDATE crm_objects SET label_plural_en = $1 WHERE name = 'people'"


async def _acme(settings: Settings, redis: Redis, queue: Queue) -> tuple[TenantRecord, TenantDatabase, TenantPools]:
    tenant = await create_organization(settings, redis, queue, slug="acme", owner="alice@example.com")
    return tenant, await tenant_database(tenant, settings), await runtime.open_pools(settings)


@asynccontextmanager
async def _other_process(database: TenantDatabase) -> AsyncIterator[asyncpg.Connection]:
    """A connection of the tenant's own that no pool of this process knows: another process, as far as they can
    tell."""
    connection = await asyncpg.connect(database.dsn)
    try:
        yield connection
    finally:
        await connection.close()


def _people_label(catalogue: Catalogue) -> str:
    return catalogue.objects["people"].label_plural_en


async def _eventually(read: Callable[[], Awaitable[Catalogue]], label: str) -> Catalogue:
    """What ``read`` gives once it shows ``label`` (the notice has arrived); fails after a second."""
    found: list[Catalogue] = []

    async def shows_label() -> bool:
        found.append(await read())
        return _people_label(found[-1]) == label

    await eventually(shows_label, within=1.0)
    return found[-1]


def _statements(connection: asyncpg.Connection) -> list[str]:
    """The statements run on ``connection`` from now on."""
    seen: list[str] = []

    def log(query: LoggedQuery) -> None:
        seen.append(query.query)

    connection.add_query_logger(log)
    return seen


async def test_it_asks_nothing_while_nothing_changed(settings: Settings, redis: Redis, queue: Queue) -> None:
    tenant, database, pools = await _acme(settings, redis, queue)
    async with pools.connection(database) as connection:
        before = await catalogue_of(connection, tenant)
        statements = _statements(connection)
        again = [await catalogue_of(connection, tenant) for _ in range(3)]

    assert all(catalogue is before for catalogue in again)
    assert statements == []


async def test_a_change_made_elsewhere_is_seen_as_its_notice_arrives(
    settings: Settings, redis: Redis, queue: Queue
) -> None:
    tenant, database, pools = await _acme(settings, redis, queue)
    async with pools.connection(database) as connection:
        before = await catalogue_of(connection, tenant)
        async with _other_process(database) as other:
            await other.execute(RENAME_PEOPLE, "Clients")
        after = await _eventually(lambda: catalogue_of(connection, tenant), "Clients")
        statements = _statements(connection)
        again = await catalogue_of(connection, tenant)

    assert _people_label(before) == "Customers"
    assert _people_label(after) == "Clients"
    assert again is after
    assert statements == []


async def test_a_change_made_in_this_process_is_seen_at_once_on_every_connection(
    settings: Settings, redis: Redis, queue: Queue
) -> None:
    tenant, database, pools = await _acme(settings, redis, queue)
    async with pools.connection(database) as first, pools.connection(database) as second:
        for connection in (first, second):
            assert _people_label(await catalogue_of(connection, tenant)) == "Customers"

        await first.execute(RENAME_PEOPLE, "Clients")
        on_the_other = await catalogue_of(second, tenant)  # no waiting: the change's own notice came with its commit

    assert _people_label(on_the_other) == "Clients"


async def test_a_connection_opened_after_a_change_does_not_trust_what_was_remembered(
    settings: Settings, redis: Redis, queue: Queue
) -> None:
    tenant, database, pools = await _acme(settings, redis, queue)
    async with pools.connection(database) as connection:
        await catalogue_of(connection, tenant)
    await pools.close_tenant(database.tenant_id)  # nothing of this process listens any more

    async with _other_process(database) as other:
        await other.execute(RENAME_PEOPLE, "Clients")
    async with pools.connection(database) as connection:
        after = await catalogue_of(connection, tenant)

    assert _people_label(after) == "Clients"


async def test_a_change_inside_a_transaction_is_not_remembered_beyond_it(
    settings: Settings, redis: Redis, queue: Queue
) -> None:
    tenant, database, pools = await _acme(settings, redis, queue)
    async with pools.connection(database) as connection:
        await catalogue_of(connection, tenant)
        transaction = connection.transaction()
        await transaction.start()
        await connection.execute(RENAME_PEOPLE, "Clients")
        inside = await catalogue_of(connection, tenant)
        await transaction.rollback()
        after = await catalogue_of(connection, tenant)
        async with _other_process(database) as other:  # the next version number, committed this time
            await other.execute("UPDATE crm_objects SET label_singular_en = 'Client' WHERE name = 'people'")
        later = await _eventually(lambda: catalogue_of(connection, tenant), "Customers")

    assert _people_label(inside) == "Clients"
    assert _people_label(after) == "Customers"
    assert later.objects["people"].label_singular_en == "Client"


async def test_a_version_bumped_by_hand_is_read_within_the_recheck(
    settings: Settings, redis: Redis, queue: Queue, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant, database, pools = await _acme(settings, redis, queue)
    async with pools.connection(database) as connection:
        await catalogue_of(connection, tenant)
        operator = await asyncpg.connect(with_database(settings.database_url, tenant.database_name))
        try:  # triggers off (no version, no notice), then the version bumped by hand: heard by nobody
            await operator.execute("SET session_replication_role = replica")
            await operator.execute(RENAME_PEOPLE, "Clients")
            await operator.execute("UPDATE crm_catalogue_version SET version = version + 1")
        finally:
            await operator.close()
        meanwhile = await catalogue_of(connection, tenant)
        now = services.time.monotonic()
        monkeypatch.setattr(services.time, "monotonic", lambda: now + RECHECK_SECONDS)
        rechecked = await catalogue_of(connection, tenant)

    assert _people_label(meanwhile) == "Customers"  # remembered: nothing said otherwise
    assert _people_label(rechecked) == "Clients"


async def test_it_remembers_the_catalogues_of_the_most_recently_used_tenants_only(
    settings: Settings, redis: Redis, queue: Queue, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "CATALOGUES_REMEMBERED", 1)
    acme, acme_database, pools = await _acme(settings, redis, queue)
    globex = await create_organization(settings, redis, queue, slug="globex", owner="bob@example.com")
    globex_database = await tenant_database(globex, settings)
    async with pools.connection(acme_database) as at_acme, pools.connection(globex_database) as at_globex:
        first = await catalogue_of(at_acme, acme)
        await catalogue_of(at_globex, globex)  # acme's is forgotten
        statements = _statements(at_acme)
        again = await catalogue_of(at_acme, acme)

    assert again is not first
    assert _people_label(again) == _people_label(first)
    assert statements  # read anew


async def test_a_view_saved_elsewhere_is_shown_as_its_notice_arrives(
    settings: Settings, redis: Redis, queue: Queue
) -> None:
    tenant, database, pools = await _acme(settings, redis, queue)
    alice, bob = uuid.uuid4(), uuid.uuid4()
    async with pools.connection(database) as connection:
        catalogue = await catalogue_of(connection, tenant)
        before = await views.shown_views(connection, catalogue, "people", alice)

        async with _other_process(database) as other:
            for label, owner in (("Riyadh", None), ("Alice's", alice), ("Bob's", bob)):
                await other.execute(
                    "INSERT INTO views (object_name, label_en, label_ar, owner_user_id, position) "
                    "VALUES ('people', $1, $1, $2, 5)",
                    label,
                    owner,
                )
        after: list[dict[str, Any]] = []

        async def shows_them() -> bool:
            catalogue = await catalogue_of(connection, tenant)
            after[:] = await views.shown_views(connection, catalogue, "people", alice)
            return len(after) == 3

        await eventually(shows_them, within=1.0)

    assert [view["label_en"] for view in before] == ["All customers"]
    assert [view["label_en"] for view in after] == ["All customers", "Alice's", "Riyadh"]
