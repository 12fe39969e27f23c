"""A web process remembers who belongs to which tenant (app/accounts/memberships.py), and forgets it as soon as
the registry says it changed, whoever changed it. Changes made "elsewhere" below go through a plain connection to
the registry, as another web process, a worker or an operator's console would make them."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from litestar import Litestar

from app.accounts import memberships, repository
from app.registry.changes import APPLICATION_NAME
from app.settings import Settings
from tests.conftest import World, eventually
from tests.people import sign_in

HOME = "/t/acme/"


@contextlib.asynccontextmanager
async def elsewhere(settings: Settings) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(settings.database_url)
    try:
        yield connection
    finally:
        await connection.close()


async def listening() -> bool:
    return memberships.is_listening()


async def bob_signed_in(client: httpx.AsyncClient) -> None:
    await sign_in(client, "bob@example.com")
    await eventually(listening)
    assert (await client.get(HOME)).status_code == 200  # and now remembered


async def test_it_shuts_out_a_member_removed_elsewhere_within_moments(
    client: httpx.AsyncClient, world: World, settings: Settings
) -> None:
    await bob_signed_in(client)

    async with elsewhere(settings) as registry:
        await registry.execute(
            'DELETE FROM memberships m USING users u WHERE u.id = m."user" AND u.email = $1', "bob@example.com"
        )

    async def shut_out() -> bool:
        return (await client.get(HOME)).status_code == 404

    await eventually(shut_out)  # within 5 s; remembered answers live a minute: only the notice explains it


async def test_it_shuts_out_a_member_removed_here_at_once(
    app: Litestar, client: httpx.AsyncClient, world: World
) -> None:
    await bob_signed_in(client)
    bob = next(m for m in await repository.memberships_of_tenant(world.acme.id) if m.email == "bob@example.com")
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as alice:
        await sign_in(alice, "alice@example.com")
        removed = await alice.post(
            f"/t/acme/settings/members/{bob.id}/remove", headers={"x-csrftoken": alice.cookies["csrftoken"]}
        )
        assert removed.status_code == 200, removed.text[:300]

    assert (await client.get(HOME)).status_code == 404  # no waiting: this process forgot bob itself


async def test_it_gives_a_member_promoted_elsewhere_their_new_rights(
    client: httpx.AsyncClient, world: World, settings: Settings
) -> None:
    await bob_signed_in(client)
    assert (await client.get("/t/acme/settings/api-keys")).status_code == 403

    async with elsewhere(settings) as registry:
        await registry.execute(
            """UPDATE memberships m SET role = 'admin' FROM users u WHERE u.id = m."user" AND u.email = $1""",
            "bob@example.com",
        )

    async def promoted() -> bool:
        return (await client.get("/t/acme/settings/api-keys")).status_code == 200

    await eventually(promoted)


async def test_it_shows_a_name_changed_elsewhere(client: httpx.AsyncClient, world: World, settings: Settings) -> None:
    await bob_signed_in(client)

    async with elsewhere(settings) as registry:
        await registry.execute("UPDATE users SET name = 'Bob Builder' WHERE email = $1", "bob@example.com")

    async def renamed() -> bool:
        return "Bob Builder" in (await client.get(HOME)).text

    await eventually(renamed)


async def test_it_remembers_a_membership_until_told_or_until_it_is_old(
    client: httpx.AsyncClient, world: World, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(memberships, "MAX_AGE_SECONDS", 1.5)
    await bob_signed_in(client)

    async with elsewhere(settings) as registry:
        # A change that slips past the triggers (they do not fire for a replica session): nobody is told.
        await registry.execute("SET session_replication_role = replica")
        await registry.execute(
            'DELETE FROM memberships m USING users u WHERE u.id = m."user" AND u.email = $1', "bob@example.com"
        )

    assert (await client.get(HOME)).status_code == 200  # remembered: the registry was not asked

    async def shut_out() -> bool:
        return (await client.get(HOME)).status_code == 404

    await eventually(shut_out, within=5.0)


async def test_it_asks_the_registry_while_it_cannot_listen(
    client: httpx.AsyncClient, world: World, settings: Settings
) -> None:
    await bob_signed_in(client)

    async with elsewhere(settings) as registry:
        ended = await registry.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE application_name = $1 AND datname = current_database()",
            APPLICATION_NAME,
        )
        assert ended == 1

        async def deaf() -> bool:
            return not memberships.is_listening()

        await eventually(deaf)
        await registry.execute("SET session_replication_role = replica")  # no notice to hear either way
        await registry.execute(
            'DELETE FROM memberships m USING users u WHERE u.id = m."user" AND u.email = $1', "bob@example.com"
        )

    assert (await client.get(HOME)).status_code == 404
    await eventually(listening)  # and it listens again
