"""A schema change made by one process is seen by every other at once: each caches a tenant's catalogue by the
version that tenant migrations 0006 and 0011 bump on every change of crm_objects, crm_fields or views."""

from __future__ import annotations

import uuid

import asyncpg
from redis.asyncio import Redis
from saq import Queue

from app.crm import views
from app.crm.services import catalogue_of
from app.settings import Settings
from app.tenancy import runtime
from app.tenancy.services import tenant_database
from tests.people import create_organization


async def test_a_change_made_elsewhere_is_seen_on_the_next_call(settings: Settings, redis: Redis, queue: Queue) -> None:
    tenant = await create_organization(settings, redis, queue, slug="acme", owner="alice@example.com")
    database = await tenant_database(tenant, settings)
    pools = await runtime.open_pools(settings)
    async with pools.connection(database) as connection:
        before = await catalogue_of(connection, tenant)
        cached = await catalogue_of(connection, tenant)

        other_process = await asyncpg.connect(database.dsn)
        try:
            await other_process.execute("UPDATE crm_objects SET label_plural_en = 'Clients' WHERE name = 'people'")
        finally:
            await other_process.close()
        after = await catalogue_of(connection, tenant)

    assert cached is before  # unchanged: served from this process's cache
    assert before.objects["people"].label_plural_en == "Customers"
    assert after.objects["people"].label_plural_en == "Clients"


async def test_a_view_saved_elsewhere_is_shown_on_the_next_call(settings: Settings, redis: Redis, queue: Queue) -> None:
    tenant = await create_organization(settings, redis, queue, slug="acme", owner="alice@example.com")
    alice, bob = uuid.uuid4(), uuid.uuid4()
    database = await tenant_database(tenant, settings)
    pools = await runtime.open_pools(settings)
    async with pools.connection(database) as connection:
        catalogue = await catalogue_of(connection, tenant)
        before = await views.shown_views(connection, catalogue, "people", alice)

        other_process = await asyncpg.connect(database.dsn)
        try:
            for label, owner in (("Riyadh", None), ("Alice's", alice), ("Bob's", bob)):
                await other_process.execute(
                    "INSERT INTO views (object_name, label_en, label_ar, owner_user_id, position) "
                    "VALUES ('people', $1, $1, $2, 5)",
                    label,
                    owner,
                )
        finally:
            await other_process.close()
        catalogue = await catalogue_of(connection, tenant)
        after = await views.shown_views(connection, catalogue, "people", alice)

    assert [view["label_en"] for view in before] == ["All customers"]
    assert [view["label_en"] for view in after] == ["All customers", "Alice's", "Riyadh"]
