from __future__ import annotations

import asyncio
import subprocess
import sys
import time

import asyncpg
import pytest
from httpx import AsyncClient
from redis.asyncio import Redis

from app.accounts import api_keys
from app.settings import Settings
from app.tenancy import services
from tests.conftest import World, wosool_env


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_the_cli_prints_a_key_once_and_it_reads_its_own_tenant(
    client: AsyncClient, settings: Settings, world: World
) -> None:
    created = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "app", "apikeys", "create", "--tenant", "acme", "--name", "ERP sync"],
        env=wosool_env(DATABASE_URL=settings.database_url),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    key = created.stdout.strip()

    response = await client.get("/api/v1/workspace", headers=_bearer(key))

    assert created.returncode == 0, created.stderr
    assert key.startswith("wsl_")
    assert response.status_code == 200, response.text
    assert response.json()["slug"] == "acme"
    assert response.json()["api_key"]["name"] == "ERP sync"
    registry = await asyncpg.connect(settings.database_url)
    try:
        stored = str(await registry.fetch("SELECT * FROM api_keys"))
    finally:
        await registry.close()
    assert key not in stored
    assert key.split("_", 2)[2] not in stored  # the secret may itself hold "_"


async def test_a_key_of_noor_never_reads_acme(client: AsyncClient, world: World) -> None:
    _, noor_key = await api_keys.create_api_key(world.noor.id, "noor", name="noor app", actor="test")

    response = await client.get("/api/v1/workspace", headers=_bearer(noor_key))

    assert response.json()["slug"] == "noor"


async def test_a_revoked_key_gets_401(client: AsyncClient, world: World) -> None:
    record, key = await api_keys.create_api_key(world.acme.id, "acme", name="old", actor="test")
    assert (await client.get("/api/v1/workspace", headers=_bearer(key))).status_code == 200

    await api_keys.revoke_api_key(world.acme.id, "acme", record.id, actor="test")

    response = await client.get("/api/v1/workspace", headers=_bearer(key))
    assert response.status_code == 401
    assert "not valid" in response.json()["detail"]


async def test_another_tenant_cannot_revoke_a_key(world: World) -> None:
    record, _ = await api_keys.create_api_key(world.acme.id, "acme", name="acme app", actor="test")

    with pytest.raises(LookupError):
        await api_keys.revoke_api_key(world.noor.id, "noor", record.id, actor="test")

    assert (await api_keys.list_api_keys(world.acme.id))[0].revoked_at is None


async def test_missing_malformed_and_forged_keys_get_401(client: AsyncClient, world: World) -> None:
    _, key = await api_keys.create_api_key(world.acme.id, "acme", name="real", actor="test")
    forged = key[:-4] + ("aaaa" if not key.endswith("aaaa") else "bbbb")

    for headers in ({}, {"Authorization": key}, _bearer("nonsense"), _bearer("wsl_x"), _bearer(forged)):
        response = await client.get("/api/v1/workspace", headers=headers)
        assert response.status_code == 401, headers


async def test_a_suspended_tenants_key_gets_403(client: AsyncClient, world: World, redis: Redis) -> None:
    _, key = await api_keys.create_api_key(world.acme.id, "acme", name="app", actor="test")
    await services.suspend_tenant(redis, "acme", actor="test")

    response = await client.get("/api/v1/workspace", headers=_bearer(key))

    assert response.status_code == 403
    assert response.json()["status"] == "suspended"


async def test_a_key_records_when_it_was_last_used(client: AsyncClient, world: World) -> None:
    _, key = await api_keys.create_api_key(world.acme.id, "acme", name="app", actor="test")
    assert (await api_keys.list_api_keys(world.acme.id))[0].last_used_at is None

    await client.get("/api/v1/workspace", headers=_bearer(key))

    assert (await api_keys.list_api_keys(world.acme.id))[0].last_used_at is not None


async def test_each_key_has_a_rate_limit(client: AsyncClient, world: World) -> None:
    _, key = await api_keys.create_api_key(world.acme.id, "acme", name="busy", actor="test")
    _, other = await api_keys.create_api_key(world.acme.id, "acme", name="calm", actor="test")
    limit = 600
    # The limit counts per clock minute: start early in a minute, so the 601 requests (~7 s) stay inside one.
    if time.time() % 60 > 40:
        await asyncio.sleep(60 - time.time() % 60)

    statuses = [(await client.get("/api/v1/workspace", headers=_bearer(key))).status_code for _ in range(limit + 1)]

    assert statuses[:limit] == [200] * limit
    assert statuses[limit] == 429
    assert (await client.get("/api/v1/workspace", headers=_bearer(other))).status_code == 200
