from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from httpx import AsyncClient
from redis.asyncio import Redis
from saq import Queue

from app.lib.crypto import SecretBox
from app.settings import Settings
from app.tenancy import repository
from app.tenancy.repository import NoServerAccepting, ServerRecord
from app.tenancy.services import tenant_database
from app.tenancy.tables import DatabaseServer
from tests.people import create_organization
from tests.services import TestServers, drop_database


@pytest.fixture
async def second_server(settings: Settings, servers: TestServers) -> AsyncIterator[ServerRecord]:
    """A second database server, registered with an encrypted admin DSN (it is the same PostgreSQL here,
    with a template of its own, which is all placement can tell apart)."""
    template = f"wosool_test_second_{uuid.uuid4().hex[:8]}"
    await DatabaseServer.insert(
        DatabaseServer(
            name="second",
            dsn_encrypted=SecretBox(settings.encryption_keys).encrypt(servers.server_url),
            template_database=template,
            template_version=0,
            capacity=5000,
            accepting_tenants=True,
        )
    )
    second = next(s for s in await repository.list_servers() if s.name == "second")
    yield second
    await drop_database(servers.server_url, template)


async def test_new_tenants_go_to_the_least_loaded_server(
    settings: Settings, redis: Redis, queue: Queue, second_server: ServerRecord
) -> None:
    default = next(s for s in await repository.list_servers() if s.name == "default")
    first = await create_organization(settings, redis, queue, slug="acme", owner="alice@example.com")
    second = await create_organization(settings, redis, queue, slug="noor", owner="charlie@example.com")

    assert {first.server_id, second.server_id} == {default.id, second_server.id}


async def test_a_tenant_on_a_server_with_a_stored_dsn_gets_its_own_template_and_works(
    settings: Settings, redis: Redis, queue: Queue, second_server: ServerRecord
) -> None:
    await repository.update_server(second_server.id, capacity=1)  # now the emptiest by share of capacity
    default = next(s for s in await repository.list_servers() if s.name == "default")
    await repository.update_server(default.id, accepting_tenants=False)

    tenant = await create_organization(settings, redis, queue, slug="acme", owner="alice@example.com")

    assert tenant.server_id == second_server.id
    assert (await repository.get_server(second_server.id)).template_version >= 1
    connection = await asyncpg.connect((await tenant_database(tenant, settings)).dsn)
    try:
        assert await connection.fetchval("SELECT slug FROM workspace") == "acme"
    finally:
        await connection.close()


async def test_no_accepting_server_is_a_clear_error(settings: Settings, redis: Redis, queue: Queue) -> None:
    for server in await repository.list_servers():
        await repository.update_server(server.id, accepting_tenants=False)

    with pytest.raises(NoServerAccepting, match="no database server accepts new tenants"):
        await create_organization(settings, redis, queue, slug="acme", owner="alice@example.com")


async def test_the_api_answers_503_when_no_server_accepts_tenants(client: AsyncClient, settings: Settings) -> None:
    for server in await repository.list_servers():
        await repository.update_server(server.id, accepting_tenants=False)

    response = await client.post(
        "/api/auth/register-organization",
        json={"name": "Acme", "slug": "acme", "email": "a@x.io", "password": "correct horse battery"},
    )

    assert response.status_code == 503
    assert "no database server accepts" in response.json()["detail"]
