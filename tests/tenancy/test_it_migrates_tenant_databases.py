from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from redis.asyncio import Redis
from saq import Queue

from app.settings import Settings
from app.tenancy import migrate, repository, schema
from app.tenancy.schema import TenantMigration
from app.tenancy.services import tenant_database
from tests.conftest import World
from tests.people import create_organization
from tests.services import TestServers, drop_database

SHIPPED = schema.latest_version()
NEXT = SHIPPED + 1
RELEASE = TenantMigration(NEXT, "add_reminders", "CREATE TABLE reminders (id serial PRIMARY KEY, body text NOT NULL)")


@pytest.fixture
async def second_migration(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, servers: TestServers
) -> AsyncIterator[None]:
    """A release that adds one migration file. The server gets a template of its own for this test, so the
    template the other tests share stays at the shipped version."""
    shipped = schema.load_migrations()
    monkeypatch.setattr(schema, "load_migrations", lambda folder=None: (*shipped, RELEASE))
    (server,) = await repository.list_servers()
    own_template = f"{server.template_database}_{uuid.uuid4().hex[:6]}"
    await repository.update_server(server.id, template_database=own_template, template_version=0)
    yield
    await drop_database(servers.server_url, own_template)


async def _tables(settings: Settings, tenant: repository.TenantRecord) -> set[str]:
    connection = await asyncpg.connect((await tenant_database(tenant, settings)).dsn)
    try:
        rows = await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {row["tablename"] for row in rows}
    finally:
        await connection.close()


async def test_it_brings_every_tenant_and_the_template_to_the_new_version(
    settings: Settings, world: World, second_migration: None
) -> None:
    summary = await migrate.migrate_tenants(settings)

    assert summary.ok
    assert sorted(summary.migrated) == ["acme", "noor"]
    assert set(summary.templates.values()) == {NEXT}
    for slug in ("acme", "noor"):
        tenant = await repository.tenant_by_slug(slug)
        assert tenant is not None
        assert tenant.schema_version == NEXT
        assert "reminders" in await _tables(settings, tenant)


async def test_the_new_tables_belong_to_the_tenants_role(
    settings: Settings, world: World, second_migration: None
) -> None:
    await migrate.migrate_tenants(settings)
    connection = await asyncpg.connect((await tenant_database(world.acme, settings)).dsn)
    try:
        owner = await connection.fetchval("SELECT tableowner FROM pg_tables WHERE tablename = 'reminders'")
    finally:
        await connection.close()

    assert owner == world.acme.role_name


async def test_one_failing_tenant_does_not_stop_the_others_and_a_rerun_resumes(
    settings: Settings, world: World, servers: TestServers, second_migration: None
) -> None:
    admin = await asyncpg.connect(servers.server_url)
    try:
        await admin.execute(f'ALTER DATABASE "{world.acme.database_name}" ALLOW_CONNECTIONS false')
        summary = await migrate.migrate_tenants(settings)
        await admin.execute(f'ALTER DATABASE "{world.acme.database_name}" ALLOW_CONNECTIONS true')
    finally:
        await admin.close()

    assert list(summary.failed) == ["acme"]
    assert summary.migrated == ["noor"]
    assert "1 failed" in "\n".join(summary.lines())

    rerun = await migrate.migrate_tenants(settings)

    assert rerun.ok
    assert rerun.migrated == ["acme"]
    assert rerun.already_current == ["noor"]


async def test_new_tenants_after_a_release_start_at_the_new_version(
    settings: Settings, redis: Redis, queue: Queue, second_migration: None
) -> None:
    await migrate.migrate_tenants(settings)

    tenant = await create_organization(settings, redis, queue, slug="late", owner="late@example.com")

    assert tenant.schema_version == NEXT
    assert "reminders" in await _tables(settings, tenant)


def test_badly_named_or_gapped_migrations_are_refused(tmp_path: pytest.TempPathFactory) -> None:
    folder = tmp_path  # type: ignore[assignment]
    (folder / "0001_first.sql").write_text("SELECT 1")  # type: ignore[operator]
    (folder / "0003_gap.sql").write_text("SELECT 1")  # type: ignore[operator]
    with pytest.raises(ValueError, match="numbered"):
        schema.load_migrations.__wrapped__(folder)  # type: ignore[attr-defined]
    (folder / "0003_gap.sql").unlink()  # type: ignore[operator]
    (folder / "2_bad.sql").write_text("SELECT 1")  # type: ignore[operator]
    with pytest.raises(ValueError, match="NNNN"):
        schema.load_migrations.__wrapped__(folder)  # type: ignore[attr-defined]
