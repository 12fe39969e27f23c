"""Every pooled tenant connection listens on the channels registered with `listen_on_tenant_connections` for as long
as it lives, its trips back to the pool included, and hands each notice to the channel's handler with the
tenant's id and the connection's notes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from app.lib.dsn import with_database
from app.tenancy import pools as pools_module
from app.tenancy.pools import PoolSettings, TenantDatabase, TenantPools, listen_on_tenant_connections, notes_of
from tests.services import TestServers, create_database, drop_database, unique_name

CHANNEL = "wosool_test_notices"


@pytest.fixture
async def database(servers: TestServers) -> AsyncIterator[TenantDatabase]:
    name = unique_name("wosool_notices")
    await create_database(servers.server_url, name)
    try:
        yield TenantDatabase(tenant_id="acme", dsn=with_database(servers.server_url, name))
    finally:
        await drop_database(servers.server_url, name)


Heard = asyncio.Queue[tuple[str, str, int]]


@pytest.fixture
def heard(monkeypatch: pytest.MonkeyPatch) -> Heard:
    """(tenant id, payload, id of the connection's notes) of every notice heard on `CHANNEL`, in order."""
    found: Heard = asyncio.Queue()
    monkeypatch.setattr(pools_module, "_channels", dict(pools_module._channels))
    listen_on_tenant_connections(
        CHANNEL, lambda tenant_id, notes, payload: found.put_nowait((tenant_id, payload, id(notes)))
    )
    return found


async def _notify(database: TenantDatabase, payload: str) -> None:
    other = await asyncpg.connect(database.dsn)
    try:
        await other.execute("SELECT pg_notify($1, $2)", CHANNEL, payload)
    finally:
        await other.close()


async def _next(heard: Heard) -> tuple[str, str, int]:
    async with asyncio.timeout(2.0):
        return await heard.get()


async def test_it_hears_notices_while_idle_and_after_going_back_to_the_pool(
    database: TenantDatabase, heard: Heard
) -> None:
    pools = TenantPools(PoolSettings(per_tenant_max=1))
    found = []
    try:
        async with pools.connection(database) as connection:
            notes = notes_of(connection)
            await _notify(database, "while checked out")
            found.append(await _next(heard))
        await _notify(database, "while idle in the pool")  # asyncpg's reset on release forgot its own listeners
        found.append(await _next(heard))
        async with pools.connection(database) as connection:
            again = notes_of(connection)
            await _notify(database, "checked out again")
            found.append(await _next(heard))
    finally:
        await pools.close()

    assert notes == {}
    assert again is notes  # the same connection (the pool holds one)
    assert found == [
        ("acme", "while checked out", id(notes)),
        ("acme", "while idle in the pool", id(notes)),
        ("acme", "checked out again", id(notes)),
    ]


async def test_it_hears_its_own_notice_before_its_commit_returns(database: TenantDatabase, heard: Heard) -> None:
    pools = TenantPools(PoolSettings())
    try:
        async with pools.connection(database) as connection:
            async with connection.transaction():
                await connection.execute("SELECT pg_notify($1, 'mine')", CHANNEL)
                before_commit = heard.qsize()
            at_commit = heard.get_nowait()  # no waiting
    finally:
        await pools.close()

    assert before_commit == 0
    assert at_commit[1] == "mine"


async def test_other_connections_have_no_notes(database: TenantDatabase) -> None:
    plain = await asyncpg.connect(database.dsn)
    try:
        assert notes_of(plain) is None
    finally:
        await plain.close()


def test_it_refuses_a_channel_name_it_would_have_to_quote() -> None:
    with pytest.raises(ValueError, match="channel"):
        listen_on_tenant_connections('wosool"; DROP TABLE x; --', lambda *_: None)
