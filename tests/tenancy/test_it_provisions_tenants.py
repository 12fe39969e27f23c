from __future__ import annotations

import asyncio

import asyncpg
import pytest
from redis.asyncio import Redis
from saq import Queue

from app.accounts import services as accounts
from app.accounts.services import Registration
from app.lib.dsn import with_database
from app.settings import Settings
from app.tenancy import provisioning, repository, schema
from app.tenancy.services import tenant_database
from tests.people import PASSWORD, create_organization
from tests.services import TestServers


class Crash(BaseException):
    """Stands for the process dying: nothing after it runs, no except clause catches it."""


async def _register(settings: Settings, redis: Redis, queue: Queue, slug: str = "acme") -> repository.TenantRecord:
    registered = await accounts.register_organization(
        Registration(name="Acme", slug=slug, email=f"owner@{slug}.example", password=PASSWORD),
        settings=settings,
        queue=queue,
        redis=redis,
    )
    assert registered.tenant is not None
    return registered.tenant


async def _server_state(servers: TestServers, name: str) -> tuple[int, int]:
    """(databases named ``name``, roles named ``name``) on the server."""
    connection = await asyncpg.connect(servers.server_url)
    try:
        dbs = await connection.fetchval("SELECT count(*) FROM pg_database WHERE datname = $1", name)
        roles = await connection.fetchval("SELECT count(*) FROM pg_roles WHERE rolname = $1", name)
        return dbs, roles
    finally:
        await connection.close()


async def test_it_creates_a_database_owned_by_the_tenants_own_role(
    settings: Settings, redis: Redis, queue: Queue
) -> None:
    tenant = await create_organization(settings, redis, queue, slug="acme", owner="alice@example.com")

    assert tenant.status == "active"
    assert tenant.schema_version == schema.latest_version()
    database = await tenant_database(tenant, settings)
    connection = await asyncpg.connect(database.dsn)
    try:
        assert await connection.fetchval("SELECT current_user") == tenant.role_name
        workspace = await connection.fetchrow("SELECT slug, name, tenant_id FROM workspace")
        owner = await connection.fetchval("SELECT tableowner FROM pg_tables WHERE tablename = 'workspace'")
    finally:
        await connection.close()
    assert dict(workspace) == {"slug": "acme", "name": "Acme", "tenant_id": tenant.id}
    assert owner == tenant.role_name


async def test_a_tenants_role_cannot_connect_to_another_tenants_database(
    settings: Settings, redis: Redis, queue: Queue
) -> None:
    acme = await create_organization(settings, redis, queue, slug="acme", owner="alice@example.com")
    noor = await create_organization(settings, redis, queue, slug="noor", owner="charlie@example.com")
    acme_dsn = (await tenant_database(acme, settings)).dsn

    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
        await asyncpg.connect(with_database(acme_dsn, noor.database_name))


async def test_the_template_and_new_databases_are_closed_to_public(
    settings: Settings, redis: Redis, queue: Queue, servers: TestServers
) -> None:
    tenant = await create_organization(settings, redis, queue, slug="acme", owner="alice@example.com")
    connection = await asyncpg.connect(servers.server_url)
    try:
        public_can_connect = await connection.fetchval(
            "SELECT has_database_privilege('public', $1, 'CONNECT')", tenant.database_name
        )
    finally:
        await connection.close()

    assert public_can_connect is False


@pytest.mark.parametrize("crash_after", provisioning.STEPS)
async def test_a_crash_after_any_step_converges_on_the_next_run(
    settings: Settings, redis: Redis, queue: Queue, servers: TestServers, crash_after: str
) -> None:
    tenant = await _register(settings, redis, queue)

    async def crash(step: str) -> None:
        if step == crash_after:
            raise Crash(step)

    with pytest.raises(Crash):
        await provisioning.provision(tenant.id, settings, redis, after_step=crash)
    done = await provisioning.provision(tenant.id, settings, redis)

    assert done.status == "active"
    assert await _server_state(servers, tenant.database_name) == (1, 1)
    database = await tenant_database(done, settings)
    connection = await asyncpg.connect(database.dsn)
    try:
        assert await connection.fetchval("SELECT count(*) FROM workspace") == 1
        assert await connection.fetchval("SELECT count(*) FROM schema_migrations") == schema.latest_version()
    finally:
        await connection.close()


async def test_two_runs_at_once_provision_once(
    settings: Settings, redis: Redis, queue: Queue, servers: TestServers
) -> None:
    tenant = await _register(settings, redis, queue)

    results = await asyncio.gather(*(provisioning.provision(tenant.id, settings, redis) for _ in range(3)))

    assert {result.status for result in results} == {"active"}
    assert await _server_state(servers, tenant.database_name) == (1, 1)


async def test_a_permanent_error_leaves_the_tenant_failed_with_the_reason_and_a_retry_fixes_it(
    settings: Settings, redis: Redis, queue: Queue, servers: TestServers
) -> None:
    from tasks.provisioning import provision_tenant

    tenant = await _register(settings, redis, queue)
    server = await repository.get_server(tenant.server_id)
    await repository.update_server(server.id, template_database="no_such_template_database")

    job = await queue.job(f"provision:{tenant.id}")
    assert job is not None  # registering enqueued exactly this job
    context = {"job": job, "worker": None, "wosool": {"settings": settings, "redis": redis}}
    job.attempts = 1
    await provision_tenant(context, tenant_id=str(tenant.id))  # type: ignore[arg-type]

    failed = await repository.tenant_by_id(tenant.id)
    assert failed is not None
    assert failed.status == "failed"
    assert "no_such_template_database" in failed.last_error

    await repository.update_server(server.id, template_database=server.template_database)
    retried = await provisioning.provision(tenant.id, settings, redis)
    assert retried.status == "active"
    assert retried.last_error == ""


async def test_a_transient_error_is_retried_until_the_last_attempt(
    settings: Settings, redis: Redis, queue: Queue
) -> None:
    from tasks.provisioning import provision_tenant

    tenant = await _register(settings, redis, queue)
    broken = Settings(**{**settings.__dict__, "database_url": "postgresql://postgres@127.0.0.1:1/nowhere"})
    job = await queue.job(f"provision:{tenant.id}")
    assert job is not None
    context = {"job": job, "worker": None, "wosool": {"settings": broken, "redis": redis}}

    job.attempts = 1
    with pytest.raises(OSError, match="Connect call failed"):
        await provision_tenant(context, tenant_id=str(tenant.id))  # type: ignore[arg-type]
    assert (await repository.tenant_by_id(tenant.id)).status == "provisioning"  # type: ignore[union-attr]

    job.attempts = job.retries
    await provision_tenant(context, tenant_id=str(tenant.id))  # type: ignore[arg-type]
    gave_up = await repository.tenant_by_id(tenant.id)
    assert gave_up is not None
    assert gave_up.status == "failed"
    assert "gave up after" in gave_up.last_error


async def test_dropping_a_tenant_leaves_no_database_and_no_role(
    settings: Settings, redis: Redis, queue: Queue, servers: TestServers
) -> None:
    from app.tenancy.services import delete_tenant

    tenant = await create_organization(settings, redis, queue, slug="acme", owner="alice@example.com")

    await delete_tenant(redis, "acme", actor="test", settings=settings, confirm_slug="acme")

    assert await _server_state(servers, tenant.database_name) == (0, 0)
