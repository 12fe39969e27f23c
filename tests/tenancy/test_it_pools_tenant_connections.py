"""The tenant pool manager against a real PostgreSQL: tenant databases owned by their own login roles, the
global connection budget checked from the server's side (pg_stat_activity), eviction, the reaper, timeouts."""

from __future__ import annotations

import asyncio
import contextlib
import random
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg
import pytest

from app.tenancy.pools import PoolBudgetTimeout, PoolSettings, TenantDatabase, TenantPools
from tests.services import TestServers, unique_name

TENANT_DATABASES = 12


@dataclass(frozen=True)
class Tenant:
    role: str
    password: str
    database: str
    dsn: str

    def as_tenant(self, tenant_id: str | None = None) -> TenantDatabase:
        return TenantDatabase(tenant_id=tenant_id or self.database, dsn=self.dsn)


@dataclass(frozen=True)
class Tenants:
    server_url: str
    all: list[Tenant]
    spare: Tenant
    """Only for the test that drops its database."""

    @property
    def roles(self) -> list[str]:
        return [tenant.role for tenant in (*self.all, self.spare)]


def tenant_dsn(server_url: str, role: str, password: str, database: str) -> str:
    """The server URL with the tenant's role, password and database (host, port or ?host= kept)."""
    parts = urlsplit(server_url)
    host = parts.netloc.rpartition("@")[2]
    netloc = f"{quote(role, safe='')}:{quote(password, safe='')}@{host}"
    return urlunsplit(parts._replace(netloc=netloc, path="/" + database))


@pytest.fixture(scope="module")
async def tenants(servers: TestServers) -> AsyncIterator[Tenants]:
    """Tenant databases, each owned by its own login role, CONNECT revoked from PUBLIC; dropped afterwards."""
    prefix = unique_name("wosool_tpool")
    made = []
    for i in range(TENANT_DATABASES + 1):
        role, password, database = f"{prefix}_r{i}", secrets.token_urlsafe(16), f"{prefix}_d{i}"
        made.append(Tenant(role, password, database, tenant_dsn(servers.server_url, role, password, database)))
    admin = await asyncpg.connect(servers.server_url)
    try:
        for tenant in made:
            await admin.execute(f"CREATE ROLE \"{tenant.role}\" LOGIN PASSWORD '{tenant.password}'")
            await admin.execute(f'CREATE DATABASE "{tenant.database}" OWNER "{tenant.role}"')
            await admin.execute(f'REVOKE CONNECT ON DATABASE "{tenant.database}" FROM PUBLIC')
        yield Tenants(servers.server_url, made[:-1], made[-1])
    finally:
        for tenant in made:
            await admin.execute(f'DROP DATABASE IF EXISTS "{tenant.database}" WITH (FORCE)')
            await admin.execute(f'DROP ROLE IF EXISTS "{tenant.role}"')
        await admin.close()


async def backends(server_url: str, roles: list[str]) -> int:
    """Connections PostgreSQL has open for these roles right now."""
    admin = await asyncpg.connect(server_url)
    try:
        count: int = await admin.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE usename = ANY($1::name[])", roles
        )
        return count
    finally:
        await admin.close()


class Sampler:
    """Samples pg_stat_activity (and the manager's own count) in the background; keeps the peaks."""

    def __init__(self, tenants: Tenants, pools: TenantPools) -> None:
        self.tenants, self.pools = tenants, pools
        self.server_peak = self.stats_peak = self.samples = 0
        self._task: asyncio.Task[None] | None = None

    async def _run(self, admin: asyncpg.Connection) -> None:
        while True:
            count = await admin.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE usename = ANY($1::name[])", self.tenants.roles
            )
            self.server_peak = max(self.server_peak, count)
            self.stats_peak = max(self.stats_peak, self.pools.stats().open_connections)
            self.samples += 1
            await asyncio.sleep(0.001)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Sampler]:
        admin = await asyncpg.connect(self.tenants.server_url)
        self._task = asyncio.create_task(self._run(admin))
        try:
            yield self
        finally:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            await admin.close()


@contextlib.asynccontextmanager
async def tenant_pools(settings: PoolSettings) -> AsyncIterator[TenantPools]:
    pools = TenantPools(settings)
    await pools.start()
    try:
        yield pools
    finally:
        await asyncio.wait_for(pools.close(), 10)


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 3.0) -> None:
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_it_reuses_a_tenant_pool_and_counts_hits_and_misses(tenants: Tenants) -> None:
    first, second = tenants.all[0].as_tenant(), tenants.all[1].as_tenant()

    async def body() -> None:
        async with tenant_pools(PoolSettings(budget=4)) as pools:
            async with pools.connection(first) as connection:
                pid = await connection.fetchval("SELECT pg_backend_pid()")
            async with pools.connection(first) as connection:
                assert await connection.fetchval("SELECT pg_backend_pid()") == pid  # the same connection
            async with pools.connection(second) as connection:
                assert await connection.fetchval("SELECT pg_backend_pid()") != pid

            stats = pools.stats()
            assert (stats.hits, stats.misses, stats.evictions, stats.waits, stats.timeouts) == (1, 2, 0, 0, 0)
            assert (stats.open_pools, stats.open_connections) == (2, 2)
            assert await backends(tenants.server_url, tenants.roles) == 2
        assert pools.stats().open_connections == 0
        assert await backends(tenants.server_url, tenants.roles) == 0  # close() waits for the server

    await asyncio.wait_for(body(), 10)


async def test_it_hands_out_a_used_connection_with_no_transaction_left_open(tenants: Tenants) -> None:
    """Connections go back without asyncpg's reset query (`StatelessConnection`); a transaction someone left open
    is still rolled back, and what it wrote is gone."""
    tenant = tenants.all[0].as_tenant()

    async def body() -> None:
        async with tenant_pools(PoolSettings(budget=1)) as pools:
            async with pools.connection(tenant) as connection:
                await connection.execute("CREATE TABLE IF NOT EXISTS left_open (note text)")
                pid = await connection.fetchval("SELECT pg_backend_pid()")
                await connection.execute("BEGIN")
                await connection.execute("INSERT INTO left_open VALUES ('never committed')")
            async with pools.connection(tenant) as connection:
                assert await connection.fetchval("SELECT pg_backend_pid()") == pid  # the same connection
                assert not connection.is_in_transaction()
                assert await connection.fetchval("SELECT count(*) FROM left_open") == 0
                await connection.execute("DROP TABLE left_open")

    await asyncio.wait_for(body(), 10)


async def test_it_connects_as_the_tenant_role_which_cannot_reach_another_tenant(tenants: Tenants) -> None:
    a, b = tenants.all[0], tenants.all[1]

    async def body() -> None:
        async with tenant_pools(PoolSettings(budget=2)) as pools:
            async with pools.connection(a.as_tenant()) as connection:
                row = await connection.fetchrow("SELECT current_user, session_user, current_database()")
            assert tuple(row) == (a.role, a.role, a.database)

            with pytest.raises(asyncpg.InsufficientPrivilegeError):  # CONNECT is revoked from PUBLIC
                await asyncpg.connect(tenant_dsn(tenants.server_url, a.role, a.password, b.database))

            wrong = TenantDatabase("a-to-b", tenant_dsn(tenants.server_url, a.role, a.password, b.database))
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                async with pools.connection(wrong):
                    pass
            assert pools.stats().open_connections == 1  # the refused connection gave its slot back

    await asyncio.wait_for(body(), 10)


async def test_it_keeps_passwords_out_of_reprs_and_errors(tenants: Tenants) -> None:
    tenant = tenants.all[0]

    async def body() -> None:
        assert tenant.password not in repr(tenant.as_tenant())
        settings = PoolSettings(budget=1, acquire_timeout=0.2)
        async with tenant_pools(settings) as pools, pools.connection(tenant.as_tenant("held")):
            with pytest.raises(PoolBudgetTimeout) as caught:
                async with pools.connection(tenants.all[1].as_tenant()):
                    pass
        assert tenant.password not in str(caught.value)
        assert tenants.all[1].password not in str(caught.value)

    await asyncio.wait_for(body(), 10)


async def test_it_never_exceeds_the_budget_with_200_tenants_at_once(tenants: Tenants) -> None:
    """200 tenants (tenant ids spread over the test databases) hit at once, three requests each, budget 20."""
    budget = 20
    ids = [(n, f"tenant-{n}", tenants.all[n % len(tenants.all)]) for n in range(200)]

    async def one_tenant(pools: TenantPools, n: int, tenant_id: str, tenant: Tenant) -> None:
        for round_ in range(3):
            async with pools.connection(tenant.as_tenant(tenant_id)) as connection:
                assert await connection.fetchval("SELECT current_user") == tenant.role
                await connection.execute("SELECT pg_sleep($1)", (n + round_) % 5 * 0.002)

    async def body() -> None:
        async with tenant_pools(PoolSettings(budget=budget, acquire_timeout=10)) as pools:
            sampler = Sampler(tenants, pools)
            async with sampler.running():
                await asyncio.gather(*(one_tenant(pools, *each) for each in ids))
            stats = pools.stats()

        assert sampler.samples > 10
        assert sampler.server_peak <= budget
        assert sampler.stats_peak <= budget
        assert sampler.server_peak >= budget // 2  # the run really pressed against the budget
        assert stats.misses >= 200
        assert stats.hits + stats.misses == 600
        assert stats.evictions > 0
        assert stats.waits > 0
        assert stats.timeouts == 0
        assert await backends(tenants.server_url, tenants.roles) == 0

    await asyncio.wait_for(body(), 20)


async def test_it_makes_room_without_touching_a_running_query(tenants: Tenants) -> None:
    """Tenant A runs a slow query and has an idle connection, which fills the budget. B needs a slot: A's idle
    connection is closed, its running query is not. C needs one: B's pool, now unused, is evicted."""
    a, b, c = tenants.all[:3]
    sleeping = asyncio.Event()

    async def slow_query(pools: TenantPools) -> str:
        async with pools.connection(a.as_tenant()) as connection:
            sleeping.set()
            result: str = await connection.fetchval("SELECT 'finished' FROM pg_sleep(1.0)")
            return result

    async def body() -> None:
        async with tenant_pools(PoolSettings(budget=2, per_tenant_max=2)) as pools:
            sampler = Sampler(tenants, pools)
            async with sampler.running():
                async with pools.connection(a.as_tenant()), pools.connection(a.as_tenant()):
                    pass  # A now holds two idle connections: the whole budget
                slow = asyncio.create_task(slow_query(pools))
                await sleeping.wait()

                for tenant in (b, c):
                    async with pools.connection(tenant.as_tenant()) as connection:
                        assert await connection.fetchval("SELECT current_user") == tenant.role
                assert not slow.done()
                stats = pools.stats()
                assert (stats.waits, stats.evictions, stats.open_pools) == (2, 1, 2)  # B's pool went
                assert await _states(tenants.server_url, a.role) == ["active"]  # the sleeping query

                assert await slow == "finished"
            assert sampler.server_peak <= 2

    await asyncio.wait_for(body(), 10)


async def test_it_lets_an_evicted_pool_finish_its_query_before_closing_it(tenants: Tenants) -> None:
    """A's credentials change while its slow query runs: its pool is evicted at once (new requests get a new
    pool), the query runs to its end, then the old pool closes."""
    a = tenants.all[0]
    old, new = a.as_tenant(), TenantDatabase(a.database, f"{a.dsn}{'&' if '?' in a.dsn else '?'}application_name=new")
    sleeping = asyncio.Event()

    async def slow_query(pools: TenantPools) -> str:
        async with pools.connection(old) as connection:
            sleeping.set()
            result: str = await connection.fetchval("SELECT 'finished' FROM pg_sleep(0.8)")
            return result

    async def body() -> None:
        async with tenant_pools(PoolSettings(budget=3)) as pools:
            slow = asyncio.create_task(slow_query(pools))
            await sleeping.wait()
            async with pools.connection(new) as connection:
                assert await connection.fetchval("SELECT current_setting('application_name')") == "new"
            assert not slow.done()
            assert pools.stats().open_pools == 2  # the new pool, and the evicted one, still draining
            assert await backends(tenants.server_url, [a.role]) == 2

            assert await slow == "finished"
            await eventually(lambda: _open_pools_are(pools, 1))
            assert await backends(tenants.server_url, [a.role]) == 1  # only the new pool's connection

    await asyncio.wait_for(body(), 10)


async def _states(server_url: str, role: str) -> list[str]:
    admin = await asyncpg.connect(server_url)
    try:
        rows = await admin.fetch("SELECT state FROM pg_stat_activity WHERE usename = $1", role)
        return [row["state"] for row in rows]
    finally:
        await admin.close()


async def test_it_raises_pool_budget_timeout_instead_of_waiting_forever(tenants: Tenants) -> None:
    a, b = tenants.all[0], tenants.all[1]

    async def body() -> None:
        settings = PoolSettings(budget=1, per_tenant_max=1, acquire_timeout=0.3)
        async with tenant_pools(settings) as pools:
            async with pools.connection(a.as_tenant()):
                started = time.monotonic()
                with pytest.raises(PoolBudgetTimeout):
                    async with pools.connection(b.as_tenant()):
                        pass
                assert 0.25 <= time.monotonic() - started < 2
                with pytest.raises(PoolBudgetTimeout):  # A's own pool is full too
                    async with pools.connection(a.as_tenant()):
                        pass
                assert pools.stats().timeouts == 2
                assert await backends(tenants.server_url, tenants.roles) == 1

            async with pools.connection(b.as_tenant()) as connection:  # A released: its idle pool makes room
                assert await connection.fetchval("SELECT current_user") == b.role
            assert pools.stats().evictions == 1

    await asyncio.wait_for(body(), 10)


async def test_it_reaps_idle_pools_and_idle_connections(tenants: Tenants) -> None:
    quiet, busy = tenants.all[:3], tenants.all[3]

    async def body() -> None:
        async with tenant_pools(PoolSettings(budget=10, idle_seconds=0.3)) as pools:
            for tenant in quiet:
                async with pools.connection(tenant.as_tenant()) as connection:
                    await connection.execute("SELECT 1")
            async with pools.connection(busy.as_tenant()), pools.connection(busy.as_tenant()):
                pass  # the busy tenant has two connections
            assert pools.stats().open_connections == 5

            async with pools.connection(busy.as_tenant()) as connection:  # keep one in use throughout
                await eventually(lambda: _open_pools_are(pools, 1))
                await eventually(lambda: _open_connections_are(pools, 1))  # its idle second one closed
                assert await connection.fetchval("SELECT 1") == 1
                assert await backends(tenants.server_url, tenants.roles) == 1
            await eventually(lambda: _open_pools_are(pools, 0))
            assert await backends(tenants.server_url, tenants.roles) == 0
            assert pools.stats().evictions == 4

    await asyncio.wait_for(body(), 10)


async def _open_pools_are(pools: TenantPools, count: int) -> bool:
    return pools.stats().open_pools == count


async def _open_connections_are(pools: TenantPools, count: int) -> bool:
    return pools.stats().open_connections == count


async def test_it_waits_for_in_flight_work_before_closing_a_tenant(tenants: Tenants) -> None:
    """close_tenant returns only when the work is done and the server has dropped the connections, so the
    database can be dropped at once (without FORCE)."""
    doomed, other = tenants.spare, tenants.all[0]
    working = asyncio.Event()

    async def work(pools: TenantPools) -> str:
        async with pools.connection(doomed.as_tenant()) as connection:
            working.set()
            result: str = await connection.fetchval("SELECT 'done' FROM pg_sleep(0.4)")
            return result

    async def body() -> None:
        async with tenant_pools(PoolSettings(budget=4)) as pools:
            async with pools.connection(other.as_tenant()):
                pass
            task = asyncio.create_task(work(pools))
            await working.wait()
            started = time.monotonic()
            await pools.close_tenant(doomed.database)
            assert time.monotonic() - started >= 0.3
            assert task.done()
            assert task.result() == "done"
            assert await backends(tenants.server_url, [doomed.role]) == 0
            assert pools.stats().open_pools == 1
            assert pools.stats().evictions == 0

            admin = await asyncpg.connect(tenants.server_url)
            try:
                await admin.execute(f'DROP DATABASE "{doomed.database}"')
            finally:
                await admin.close()

            last = asyncio.create_task(work_on(pools, other))
            await asyncio.sleep(0.05)
        assert last.done()  # close() too waited for the in-flight work
        assert last.result() == 1
        with pytest.raises(RuntimeError):
            async with pools.connection(other.as_tenant()):
                pass

    await asyncio.wait_for(body(), 10)


async def work_on(pools: TenantPools, tenant: Tenant) -> int:
    async with pools.connection(tenant.as_tenant()) as connection:
        result: int = await connection.fetchval("SELECT 1 FROM pg_sleep(0.3)")
        return result


async def test_it_gives_every_slot_back_when_requests_are_cancelled(tenants: Tenants) -> None:
    """Requests cancelled while waiting for a slot, while connecting, or mid-query leak nothing."""
    budget = 5

    async def request(pools: TenantPools, n: int) -> None:
        tenant = tenants.all[n % len(tenants.all)]
        async with pools.connection(tenant.as_tenant(f"tenant-{n % 40}")) as connection:
            await connection.execute("SELECT pg_sleep(0.01)")

    async def body() -> None:
        async with tenant_pools(PoolSettings(budget=budget, acquire_timeout=3)) as pools:
            sampler = Sampler(tenants, pools)
            async with sampler.running():
                for wave in range(3):
                    outcomes = await asyncio.gather(
                        *(asyncio.wait_for(request(pools, n), (n + wave) % 9 * 0.004) for n in range(120)),
                        return_exceptions=True,
                    )
                    assert {type(outcome) for outcome in outcomes} <= {type(None), TimeoutError}
                    assert any(isinstance(outcome, TimeoutError) for outcome in outcomes)
                    await eventually(lambda: _server_agrees(tenants, pools))
            assert sampler.server_peak <= budget
            assert sampler.stats_peak <= budget
            async with pools.connection(tenants.all[0].as_tenant()) as connection:  # still serving
                assert await connection.fetchval("SELECT 1") == 1
        assert pools.stats().open_connections == 0
        assert await backends(tenants.server_url, tenants.roles) == 0

    await asyncio.wait_for(body(), 15)


async def _server_agrees(tenants: Tenants, pools: TenantPools) -> bool:
    """Once everything settles, the slots in use are exactly the connections the server has for us."""
    return await backends(tenants.server_url, tenants.roles) == pools.stats().open_connections


async def test_it_hands_a_tenants_connections_out_first_come_first_served(tenants: Tenants) -> None:
    """400 requests on one tenant with 2 connections, arriving at random: each gets a connection in the order it
    asked for one. (asyncpg's own queue lets a request arriving just as a connection comes back take it ahead of
    one already waiting, which then waits again at the back.)"""
    tenant = tenants.all[0].as_tenant()
    arrivals = random.Random(20261127)  # noqa: S311 - arrival times, not secrets
    asked: list[int] = []
    served: list[int] = []

    async def request(pools: TenantPools, n: int) -> None:
        for _ in range(10):
            await asyncio.sleep(arrivals.random() * 0.003)
            asked.append(n)
            async with pools.connection(tenant) as connection:
                served.append(n)
                await connection.execute("SELECT pg_sleep(0.001)")  # longer than requests arrive: they queue

    async def body() -> None:
        async with tenant_pools(PoolSettings(budget=4, per_tenant_max=2)) as pools:
            async with pools.connection(tenant), pools.connection(tenant):
                pass  # both connections open before the load: none is handed out while still connecting
            await asyncio.gather(*(request(pools, n) for n in range(40)))
            assert len(served) == 400
            assert served == asked
            assert pools.stats().waits > 200

    await asyncio.wait_for(body(), 10)
