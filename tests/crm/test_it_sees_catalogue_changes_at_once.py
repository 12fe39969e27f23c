"""A schema change made by one process is seen by every other at once: each caches a tenant's catalogue by the
version that tenant migration 0006 bumps on every change of crm_objects or crm_fields."""

from __future__ import annotations

import asyncpg
from redis.asyncio import Redis
from saq import Queue

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
