from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from redis.asyncio import Redis
from saq import Queue

from app.crm.metadata import Catalogue, load_catalogue
from app.settings import Settings
from app.tenancy import runtime
from app.tenancy.services import tenant_database
from tests.people import create_organization


@pytest.fixture
async def crm(settings: Settings, redis: Redis, queue: Queue) -> AsyncIterator[tuple[asyncpg.Connection, Catalogue]]:
    """A connection to a real tenant's database through its pool (as the tenant's role), and its catalogue."""
    tenant = await create_organization(settings, redis, queue, slug="acme", owner="alice@example.com")
    pools = await runtime.open_pools(settings)
    async with pools.connection(await tenant_database(tenant, settings)) as connection:
        yield connection, await load_catalogue(connection)
