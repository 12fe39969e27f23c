"""Tenant pools under load: many tenant databases, each owned by its own role, behind one connection budget.

    python -m bench.pools [--tenants 1000] [--requests 20000] [--concurrency 64] [--budget 50]

Creates ``--tenants`` roles and databases (cloned from a small template) on the PostgreSQL at
WOSOOL_BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/postgres), then runs the same
requests three ways, one after the other:

- through `TenantPools`, spread uniformly at random over every tenant (the budget's worst case: almost every
  request lands on a tenant without an open connection);
- through `TenantPools`, spread over a hot set of tenants that fits in the budget;
- through one shared asyncpg pool of ``--budget`` connections to a single tenant database (the baseline: what
  the same process would do if there were only one database).

Prints a markdown table, and drops everything it created, even on Ctrl-C. Only local connections; it stops by
itself.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import statistics
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg
import psutil

from app.lib.dsn import with_database
from app.tenancy.pools import PoolBudgetTimeout, PoolSettings, PoolStats, TenantDatabase, TenantPools

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
QUERY = "SELECT name FROM contacts WHERE id = $1"
CONTACTS = 100
DDL_CONCURRENCY = 4


def tenant_dsn(server_url: str, role: str, password: str, database: str) -> str:
    parts = urlsplit(server_url)
    host = parts.netloc.rpartition("@")[2]
    netloc = f"{quote(role, safe='')}:{quote(password, safe='')}@{host}"
    return urlunsplit(parts._replace(netloc=netloc, path="/" + database))


def rss_mib() -> float:
    rss: int = psutil.Process().memory_info().rss
    return rss / 2**20


@dataclass
class Tenants:
    server_url: str
    prefix: str
    databases: list[TenantDatabase] = field(default_factory=list)
    created: list[tuple[str, str]] = field(default_factory=list)  # (role, database), for the clean-up

    @property
    def template(self) -> str:
        return f"{self.prefix}_tpl"


async def _execute_each(server_url: str, statements: list[list[str]]) -> None:
    """Run each group of statements in order, groups side by side on DDL_CONCURRENCY connections."""
    queue: asyncio.Queue[list[str]] = asyncio.Queue()
    for group in statements:
        queue.put_nowait(group)

    async def worker() -> None:
        connection = await asyncpg.connect(server_url)
        try:
            while not queue.empty():
                for statement in queue.get_nowait():
                    await connection.execute(statement)
        finally:
            await connection.close()

    await asyncio.gather(*(worker() for _ in range(DDL_CONCURRENCY)))


async def create_tenants(tenants: Tenants, count: int) -> None:
    admin = await asyncpg.connect(tenants.server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{tenants.template}" TEMPLATE template0')
    finally:
        await admin.close()
    template = await asyncpg.connect(with_database(tenants.server_url, tenants.template))
    try:
        await template.execute("CREATE TABLE contacts (id int PRIMARY KEY, name text NOT NULL)")
        await template.execute(
            "INSERT INTO contacts SELECT n, 'contact ' || n FROM generate_series(1, $1::int) n", CONTACTS
        )
        await template.execute("GRANT SELECT ON contacts TO PUBLIC")
    finally:
        await template.close()

    groups = []
    for n in range(count):
        role, database, password = f"{tenants.prefix}_r{n}", f"{tenants.prefix}_d{n}", secrets.token_hex(12)
        tenants.created.append((role, database))
        tenants.databases.append(
            TenantDatabase(f"tenant-{n}", tenant_dsn(tenants.server_url, role, password, database))
        )
        groups.append(
            [
                f"CREATE ROLE \"{role}\" LOGIN PASSWORD '{password}'",
                f'CREATE DATABASE "{database}" OWNER "{role}" TEMPLATE "{tenants.template}"',
                f'REVOKE CONNECT ON DATABASE "{database}" FROM PUBLIC',
            ]
        )
    await _execute_each(tenants.server_url, groups)


async def drop_tenants(tenants: Tenants) -> None:
    groups = [
        [f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)', f'DROP ROLE IF EXISTS "{role}"']
        for role, database in tenants.created
    ]
    groups.append([f'DROP DATABASE IF EXISTS "{tenants.template}" WITH (FORCE)'])
    await _execute_each(tenants.server_url, groups)


class PeakConnections:
    """Samples pg_stat_activity for the bench's roles (and the manager's own count) every few milliseconds."""

    def __init__(self, server_url: str, prefix: str, pools: TenantPools | None) -> None:
        self.server_url, self.prefix, self.pools = server_url, prefix, pools
        self.server = self.reported = 0

    @asynccontextmanager
    async def sampling(self) -> AsyncIterator[PeakConnections]:
        admin = await asyncpg.connect(self.server_url)

        async def sample() -> None:
            while True:
                count = await admin.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE starts_with(usename::text, $1)", self.prefix
                )
                self.server = max(self.server, count)
                if self.pools is not None:
                    self.reported = max(self.reported, self.pools.stats().open_connections)
                await asyncio.sleep(0.005)

        task = asyncio.create_task(sample())
        try:
            yield self
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await admin.close()


@dataclass
class Run:
    name: str
    seconds: float
    latencies_ms: list[float]
    failures: int
    peak_server: int
    peak_reported: int | None
    stats: PoolStats | None
    rss_before: float
    rss_after: float

    @property
    def throughput(self) -> float:
        return len(self.latencies_ms) / self.seconds

    def percentile(self, p: int) -> float:
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[p - 1]


async def drive(
    requests: int, concurrency: int, one_request: Callable[[int], Awaitable[None]]
) -> tuple[float, list[float], int]:
    """``requests`` calls of ``one_request`` by ``concurrency`` workers; wall time, latencies, failures."""
    latencies: list[float] = []
    failures = 0
    remaining = iter(range(requests))

    async def worker() -> None:
        nonlocal failures
        for n in remaining:
            started = time.perf_counter()
            try:
                await one_request(n)
            except (PoolBudgetTimeout, asyncpg.PostgresError, OSError):
                failures += 1
                continue
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started, latencies, failures


async def run_tenant_pools(name: str, tenants: Tenants, choose: list[TenantDatabase], args: argparse.Namespace) -> Run:
    rng = random.Random(42)
    targets = [(rng.choice(choose), rng.randint(1, CONTACTS)) for _ in range(args.requests)]
    pools = TenantPools(PoolSettings(budget=args.budget))
    await pools.start()
    rss_before = rss_mib()

    async def one_request(n: int) -> None:
        database, contact = targets[n]
        async with pools.connection(database) as connection:
            await connection.fetchval(QUERY, contact)

    peaks = PeakConnections(tenants.server_url, tenants.prefix, pools)
    try:
        async with peaks.sampling():
            seconds, latencies, failures = await drive(args.requests, args.concurrency, one_request)
        stats = pools.stats()
        rss_after = rss_mib()
    finally:
        await pools.close()
    return Run(name, seconds, latencies, failures, peaks.server, peaks.reported, stats, rss_before, rss_after)


async def run_shared_pool(tenants: Tenants, args: argparse.Namespace) -> Run:
    rng = random.Random(42)
    contacts = [rng.randint(1, CONTACTS) for _ in range(args.requests)]
    rss_before = rss_mib()
    pool = await asyncpg.create_pool(tenants.databases[0].dsn, min_size=args.budget, max_size=args.budget)

    async def one_request(n: int) -> None:
        async with pool.acquire() as connection:
            await connection.fetchval(QUERY, contacts[n])

    peaks = PeakConnections(tenants.server_url, tenants.prefix, None)
    try:
        async with peaks.sampling():
            seconds, latencies, failures = await drive(args.requests, args.concurrency, one_request)
        rss_after = rss_mib()
    finally:
        await pool.close()
    name = f"one shared pool ({args.budget} connections, 1 database)"
    return Run(name, seconds, latencies, failures, peaks.server, None, None, rss_before, rss_after)


def table(runs: list[Run]) -> str:
    baseline = runs[-1]
    lines = [
        "| measure | " + " | ".join(run.name for run in runs) + " |",
        "| --- |" + " --- |" * len(runs),
    ]

    def row(label: str, cell: Callable[[Run], str]) -> None:
        lines.append(f"| {label} | " + " | ".join(cell(run) for run in runs) + " |")

    row("requests/s", lambda r: f"{r.throughput:,.0f}")
    row("ratio to the shared pool", lambda r: f"{r.throughput / baseline.throughput:.2f}x")
    row("p50 / p95 / p99 latency", lambda r: " / ".join(f"{r.percentile(p):.1f}" for p in (50, 95, 99)) + " ms")
    row("failed requests", lambda r: str(r.failures))
    row("peak connections (pg_stat_activity)", lambda r: str(r.peak_server))
    row("peak connections (stats())", lambda r: "-" if r.peak_reported is None else str(r.peak_reported))
    row(
        "pool hits / misses / evictions",
        lambda r: "-" if r.stats is None else f"{r.stats.hits} / {r.stats.misses} / {r.stats.evictions}",
    )
    row("waits (budget full) / timeouts", lambda r: "-" if r.stats is None else f"{r.stats.waits} / {r.stats.timeouts}")
    row("process RSS before → after", lambda r: f"{r.rss_before:.0f} → {r.rss_after:.0f} MiB")
    return "\n".join(lines)


async def main(args: argparse.Namespace) -> None:
    server_url = os.environ.get("WOSOOL_BENCH_DATABASE_URL", DEFAULT_URL)
    admin = await asyncpg.connect(server_url)
    try:
        max_connections = int(await admin.fetchval("SHOW max_connections"))
        in_use = int(await admin.fetchval("SELECT count(*) FROM pg_stat_activity"))
        version = await admin.fetchval("SHOW server_version")
    finally:
        await admin.close()
    if args.budget + in_use + 10 > max_connections:
        raise SystemExit(f"budget {args.budget} too high: max_connections {max_connections}, {in_use} in use")
    print(f"PostgreSQL {version}, max_connections {max_connections}, {in_use} connections in use before")

    tenants = Tenants(server_url, f"wosool_bench_{uuid.uuid4().hex[:8]}")
    rss_start = rss_mib()
    try:
        started = time.perf_counter()
        await create_tenants(tenants, args.tenants)
        setup = time.perf_counter() - started
        print(
            f"created {args.tenants} roles and databases in {setup:.1f} s ({setup / args.tenants * 1000:.0f} ms each)"
        )

        hot = tenants.databases[: max(1, args.budget * 4 // 5)]
        runs = [
            await run_tenant_pools(
                f"tenant pools, {args.tenants} tenants (budget {args.budget})", tenants, tenants.databases, args
            ),
            await run_tenant_pools(f"tenant pools, {len(hot)} hot tenants", tenants, hot, args),
            await run_shared_pool(tenants, args),
        ]
    finally:
        started = time.perf_counter()
        await drop_tenants(tenants)
        print(f"dropped everything in {time.perf_counter() - started:.1f} s")

    print(
        f"\n{args.requests} requests (`{QUERY}`), {args.concurrency} concurrent workers; "
        f"process RSS {rss_start:.0f} MiB at start\n"
    )
    print(table(runs))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--budget", type=int, default=50)
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
