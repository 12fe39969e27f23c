"""Operators run the lifecycle from the command line: `wosool tenants ...`."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from redis.asyncio import Redis

from app.admin import audit
from app.settings import Settings
from app.tenancy import repository, services
from tests.conftest import World, wosool_env
from tests.services import TestServers


async def wosool(settings: Settings, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "app", *args],
        env=wosool_env(DATABASE_URL=settings.database_url, REDIS_URL=settings.redis_url),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def _databases_named(servers: TestServers, name: str) -> int:
    connection = await asyncpg.connect(servers.server_url)
    try:
        return int(await connection.fetchval("SELECT count(*) FROM pg_database WHERE datname = $1", name))
    finally:
        await connection.close()


async def test_create_then_list(settings: Settings) -> None:
    created = await wosool(
        settings, "tenants", "create", "--name", "Noor Store", "--slug", "noor", "--owner-email",
        "charlie@example.com", "--owner-password", "correct horse battery",
    )  # fmt: skip
    listed = await wosool(settings, "tenants", "list")

    assert created.returncode == 0, created.stderr
    assert "noor is active" in created.stdout
    assert "noor" in listed.stdout
    assert "active" in listed.stdout
    assert "1 tenant(s)" in listed.stdout


async def test_create_refuses_bad_input_with_the_reason(settings: Settings) -> None:
    result = await wosool(
        settings, "tenants", "create", "--name", "X", "--slug", "admin", "--owner-email", "x@example.com",
        "--owner-password", "correct horse battery",
    )  # fmt: skip

    assert result.returncode != 0
    assert "reserved" in result.stderr


async def test_suspend_and_resume_are_audited(settings: Settings, world: World) -> None:
    suspended = await wosool(settings, "tenants", "suspend", "acme", "--reason", "unpaid invoice")
    again = await wosool(settings, "tenants", "suspend", "acme")
    resumed = await wosool(settings, "tenants", "resume", "acme")

    assert "acme is suspended" in suspended.stdout
    assert again.returncode != 0
    assert "only an active tenant" in again.stderr
    assert "acme is active" in resumed.stdout
    actions = [entry.action for entry in await audit.entries_for("acme")]
    assert actions[:2] == ["tenant.resumed", "tenant.suspended"]


async def test_delete_asks_for_the_slug_and_then_drops_database_and_role(
    settings: Settings, world: World, servers: TestServers
) -> None:
    refused = await wosool(settings, "tenants", "delete", "acme", stdin="nope\n")
    assert refused.returncode != 0
    assert await _databases_named(servers, world.acme.database_name) == 1

    deleted = await wosool(settings, "tenants", "delete", "acme", stdin="acme\n")

    assert deleted.returncode == 0, deleted.stderr
    assert "acme is deleted" in deleted.stdout
    assert await _databases_named(servers, world.acme.database_name) == 0
    assert (await repository.tenant_by_slug("acme")).status == "deleted"  # type: ignore[union-attr]
    assert "tenant.deleted" in [entry.action for entry in await audit.entries_for("acme")]


async def test_delete_with_a_retention_period_keeps_the_data_until_it_ends(
    settings: Settings, world: World, servers: TestServers, redis: Redis
) -> None:
    scheduled = await wosool(settings, "tenants", "delete", "acme", "--after-days", "30", "--confirm", "acme")
    assert "acme is deleting" in scheduled.stdout
    assert await services.purge_due_tenants(redis, settings) == []
    assert await _databases_named(servers, world.acme.database_name) == 1

    await repository.update_tenant(world.acme.id, delete_after=datetime.now(UTC) - timedelta(seconds=1))

    assert await services.purge_due_tenants(redis, settings) == ["acme"]
    assert await _databases_named(servers, world.acme.database_name) == 0


async def test_a_deletion_cut_short_is_finished_by_the_purge(
    settings: Settings, world: World, servers: TestServers, redis: Redis
) -> None:
    admin = await asyncpg.connect(settings.database_url)
    try:  # something of the tenant's role outside its database: DROP ROLE fails after its database is gone
        await admin.execute(f'CREATE TABLE left_behind (); ALTER TABLE left_behind OWNER TO "{world.acme.role_name}"')
        with pytest.raises(asyncpg.DependentObjectsStillExistError):
            await services.delete_tenant(redis, "acme", actor="ops", settings=settings, confirm_slug="acme")
        assert (await repository.tenant_by_slug("acme")).status == "deleting"  # type: ignore[union-attr]
        await admin.execute("DROP TABLE left_behind")
    finally:
        await admin.close()

    assert await services.purge_due_tenants(redis, settings) == ["acme"]
    assert (await repository.tenant_by_slug("acme")).status == "deleted"  # type: ignore[union-attr]
    assert await _databases_named(servers, world.acme.database_name) == 0


async def test_a_tenant_awaiting_deletion_can_be_resumed(settings: Settings, world: World) -> None:
    await wosool(settings, "tenants", "delete", "acme", "--after-days", "30", "--confirm", "acme")

    resumed = await wosool(settings, "tenants", "resume", "acme")

    assert "acme is active" in resumed.stdout
    assert (await repository.tenant_by_slug("acme")).delete_after is None  # type: ignore[union-attr]
