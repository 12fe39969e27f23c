"""A throwaway registry with one provisioned tenant, for benchmarks that work inside a tenant's database."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from redis.asyncio import Redis

from app.accounts.services import Registration, register_organization
from app.lib.dsn import with_database
from app.registry import database as registry
from app.settings import Settings
from app.tenancy import databases, provisioning, runtime
from app.tenancy.migrate import migrate_everything
from app.tenancy.pools import TenantDatabase
from app.tenancy.services import tenant_database
from tasks.queue import create_queue

__all__ = ["REDIS_URL", "SERVER_URL", "bench_tenant"]

SERVER_URL = os.environ.get("WOSOOL_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("WOSOOL_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


@asynccontextmanager
async def bench_tenant(slug: str) -> AsyncIterator[TenantDatabase]:
    """How to reach the new tenant's database (its pools are open); everything is dropped on the way out."""
    registry_name = f"bench_{slug.replace('-', '_')}_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(SERVER_URL)
    await admin.execute(f'CREATE DATABASE "{registry_name}"')
    settings = Settings(database_url=with_database(SERVER_URL, registry_name), redis_url=REDIS_URL)
    registry.bind(settings.database_url)
    redis, queue = Redis.from_url(REDIS_URL), create_queue(settings)
    tenant_name = None
    try:
        await migrate_everything(settings)
        registered = await register_organization(
            Registration(name="Bench", slug=slug, email=f"{slug}@example.com", password="correct horse battery"),
            settings=settings,
            queue=queue,
            redis=redis,
        )
        assert registered.tenant is not None
        tenant = await provisioning.provision(registered.tenant.id, settings, redis)
        tenant_name = tenant.database_name
        await runtime.open_pools(settings)
        yield await tenant_database(tenant, settings)
    finally:
        await runtime.close_pools()
        await registry.close_pool(everyone=True)
        await queue.disconnect()
        await redis.aclose()
        if tenant_name:
            await databases.drop_database(admin, tenant_name)
            await databases.drop_role(admin, tenant_name)
        await databases.drop_database(admin, f"{registry_name}_template")
        await databases.drop_database(admin, registry_name)
        await admin.close()
