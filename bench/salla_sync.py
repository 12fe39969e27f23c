"""The first full sync of a big Salla store, against the floor Salla's rate limits allow.

    python -m bench.salla_sync [--runs 3] [--customers 10000 --products 2000 --orders 20000] [--plan special]

A sandbox store (the built-in faithful Salla) is served over HTTP by `serve_sandbox` in this process; the real
sync job runs in a real ``wosool worker`` process, into a freshly provisioned tenant, exactly as after an install.
Each run gets a new store and a new tenant. Printed per run and as medians: wall time (from the enqueue until
every resource is done), requests (as the sandbox counted them), 429s, the floor and the ratio wall / floor.

The floor: the least time Salla's documented limits allow for the requests the sync needs (one per page of 60):
- the store's budget, the plan's requests a minute (Special: 720, i.e. 12 a second), for every request;
- the customers endpoints' own budget, 500 requests per 10 minutes, counted as a steady rate (one every 1.2 s):
  Salla gives the count per 10 minutes, not a burst anyone may rely on, and applies it per IP address (its
  changelog), so across every store Wosool syncs from one address;
- each budget's initial burst is credited as what Wosool's client takes (app/salla/rate_budget.py: a tenth of the
  store's budget, 72 on Special; 10 for customers). Crediting more would flatter a floor nobody may rely on.
The sync pages customers beside products → orders (app.salla.sync.LANES), so the floor is the larger of the
customers' (pages - 10) × 1.2 s and all pages' (pages - 72) / 12 s. Printed for comparison: the floor of one
resource after another, and the floor if the customers' limit were a window that takes 500 at once.

Uses the PostgreSQL at WOSOOL_BENCH_DATABASE_URL and the Redis at WOSOOL_BENCH_REDIS_URL (defaults: the local
services); creates its own registry and tenants and drops them at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import math
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from redis.asyncio import Redis

from app.accounts.services import Registration, register_organization
from app.lib.dsn import with_database
from app.ops.heartbeats import newest_beat
from app.registry import database as registry
from app.salla import store_repository, sync, sync_store
from app.salla.accounts import grant_from_payload
from app.salla.rate_budget import CUSTOMERS_LIMIT, BucketLimit, plan_limit
from app.salla.sandbox import Sandbox, serve_sandbox
from app.salla.tokens import save_grant
from app.settings import Settings
from app.tenancy import databases, provisioning, runtime
from app.tenancy.migrate import migrate_everything
from bench.tenant import REDIS_URL, SERVER_URL
from tasks.queue import create_queue

PER_PAGE = sync.PER_PAGE


@dataclass(frozen=True)
class Run:
    wall: float
    requests: int
    throttled: int
    by_resource: dict[str, float]
    """Seconds from the first page to the last, per resource."""


@dataclass(frozen=True)
class Floor:
    lanes: float
    one_after_another: float
    customers_as_a_window: float


SALLA_CUSTOMERS = (500, 600.0)
"""Salla's own figure for the customers endpoints (shared/reference/salla.md); the client paces at 480 for headroom."""


def _burst(limit: BucketLimit) -> int:
    """The client's initial burst for a budget (the same rounding as its Lua script)."""
    return max(1, math.floor(limit.requests * limit.burst_fraction + 1e-6))


def floor_of(customers: int, products: int, orders: int, plan: str) -> Floor:
    store = plan_limit(plan)
    store_rate = store.requests / store.per_seconds
    customers_rate = SALLA_CUSTOMERS[0] / SALLA_CUSTOMERS[1]
    pages_c, pages_p, pages_o = (math.ceil(count / PER_PAGE) for count in (customers, products, orders))
    customers_lane = max(0, pages_c - _burst(CUSTOMERS_LIMIT)) / customers_rate
    everything = max(0, pages_c + pages_p + pages_o - _burst(store)) / store_rate
    # One after the other: the customers spend the store's burst, and it has filled again by the time they end.
    rest = max(0, pages_p + pages_o - _burst(store)) / store_rate
    return Floor(
        lanes=max(customers_lane, everything),
        one_after_another=customers_lane + rest,
        customers_as_a_window=everything if pages_c <= SALLA_CUSTOMERS[0] else max(customers_lane, everything),
    )


@asynccontextmanager
async def bench_registry() -> AsyncIterator[Settings]:
    name = f"bench_salla_sync_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(SERVER_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    settings = Settings(database_url=with_database(SERVER_URL, name), redis_url=REDIS_URL, queue_name=name)
    registry.bind(settings.database_url)
    tenants: list[str] = []
    try:
        await migrate_everything(settings)
        await registry.open_pool()
        await runtime.open_pools(settings)
        yield settings
    finally:
        await runtime.close_pools()
        tenants = [row["database_name"] for row in await _tenant_databases(settings)]
        await registry.close_pool(everyone=True)
        for tenant in tenants:
            await databases.drop_database(admin, tenant)
            await databases.drop_role(admin, tenant)
        await databases.drop_database(admin, f"{name}_template")
        await databases.drop_database(admin, name)
        await admin.close()


async def _tenant_databases(settings: Settings) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(settings.database_url)
    try:
        return list(await connection.fetch("SELECT database_name FROM tenants"))
    finally:
        await connection.close()


def start_worker(settings: Settings, log_path: Path) -> subprocess.Popen[bytes]:
    salla = settings.salla
    env = {
        "PATH": "/usr/bin:/bin",
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "WOSOOL_QUEUE": settings.queue_name,
        "SALLA_CLIENT_ID": salla.client_id,
        "SALLA_CLIENT_SECRET": salla.client_secret,
        "SALLA_WEBHOOK_SECRET": salla.webhook_secret,
        "SALLA_ACCOUNTS_URL": salla.accounts_url,
        "SALLA_API_URL": salla.api_url,
    }
    with log_path.open("w") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "app", "worker", "--concurrency", "4"], env=env, stdout=log, stderr=subprocess.STDOUT
        )


async def one_run(settings: Settings, sandbox: Sandbox, merchant_id: int, counts: tuple[int, int, int]) -> Run:
    redis = Redis.from_url(settings.redis_url)
    queue = create_queue(settings)
    try:
        slug = f"bench-{merchant_id}"
        registered = await register_organization(
            Registration(name="Bench", slug=slug, email=f"{slug}@example.com", password="correct horse battery"),
            settings=settings,
            queue=queue,
            redis=redis,
        )
        assert registered.tenant is not None
        tenant = await provisioning.provision(registered.tenant.id, settings, redis)
        store = await store_repository.ensure_store(merchant_id)
        plan = sandbox.store(merchant_id).plan
        await store_repository.update_store(store.id, tenant_id=tenant.id, plan=plan)
        store = await save_grant(store.id, grant_from_payload(sandbox.issue_tokens(merchant_id)), settings)

        started = time.perf_counter()
        assert await sync.start_full_sync(store, queue)
        while True:
            rows = await sync_store.rows_of(store.id)
            if rows and all(row.status in ("done", "failed") for row in rows):
                break
            await asyncio.sleep(0.05)
        wall = time.perf_counter() - started
        failed = [row for row in rows if row.status != "done"]
        if failed:
            raise RuntimeError(f"the sync failed: {[(row.resource, row.last_error) for row in failed]}")
        done = {row.resource: row.done for row in rows}
        expected = dict(zip(sync.RESOURCES, counts, strict=True))
        if done != expected:
            raise RuntimeError(f"synced {done}, expected {expected}")
        stats = sandbox.stats(merchant_id)
        by_resource = {
            row.resource: (row.finished_at - row.started_at).total_seconds()
            for row in rows
            if row.finished_at and row.started_at
        }
        return Run(wall=wall, requests=stats.requests, throttled=stats.throttled, by_resource=by_resource)
    finally:
        await queue.disconnect()
        await redis.aclose()


async def main(runs: int, customers: int, products: int, orders: int, plan: str) -> None:
    sandbox = Sandbox()
    async with bench_registry() as base, serve_sandbox(sandbox, port=0) as base_url:
        settings = dataclasses.replace(base, salla=sandbox.salla_settings(base_url, base.salla))
        log_dir = Path(tempfile.mkdtemp(prefix="bench-salla-sync-"))
        worker = start_worker(settings, log_dir / "worker.log")
        try:
            while await newest_beat() is None:
                if worker.poll() is not None:
                    raise RuntimeError(f"the worker exited; see {log_dir / 'worker.log'}")
                await asyncio.sleep(0.1)
            results = []
            for run in range(runs):
                merchant_id = 880_000 + run
                sandbox.add_store(
                    merchant_id=merchant_id,
                    username=f"bench-{run}",
                    name="متجر القياس",
                    owner_email=f"owner{run}@bench.sa",
                    plan=plan,
                    customers=customers,
                    products=products,
                    orders=orders,
                    seed=run + 1,
                )
                result = await one_run(settings, sandbox, merchant_id, (customers, products, orders))
                results.append(result)
                print(
                    f"run {run + 1}: wall {result.wall:.1f} s, {result.requests} requests, {result.throttled} x 429; "
                    + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in result.by_resource.items()),
                    flush=True,
                )
        finally:
            worker.terminate()
            worker.wait(timeout=30)
        shutil.rmtree(log_dir)  # kept when a run failed: the worker's log says why
    report(results, floor_of(customers, products, orders, plan), (customers, products, orders), plan)


def report(results: list[Run], floor: Floor, counts: tuple[int, int, int], plan: str) -> None:
    customers, products, orders = counts
    wall = statistics.median(result.wall for result in results)
    requests = statistics.median(result.requests for result in results)
    throttled = statistics.median(result.throttled for result in results)
    pages = sum(math.ceil(count / PER_PAGE) for count in counts)
    print()
    print(f"{customers} customers, {products} products, {orders} orders; plan {plan}; medians of {len(results)} runs")
    print("| measure | value |")
    print("| --- | --- |")
    print(f"| wall time, enqueue → every resource done | {wall:.1f} s |")
    print(f"| requests (sandbox's count; pages needed: {pages}) | {requests:.0f} |")
    print(f"| 429 answers (target 0) | {throttled:.0f} |")
    print(f"| floor (customers beside products → orders; see the module doc) | {floor.lanes:.1f} s |")
    ratio = f"{wall / floor.lanes:.3f}" if floor.lanes > 0 else "n/a (every request fits in the bursts)"
    print(f"| ratio wall / floor (target ≤ 1.10) | {ratio} |")
    print(f"| floor if one resource after another | {floor.one_after_another:.1f} s |")
    print(f"| floor if the customers' limit took 500 at once (a window) | {floor.customers_as_a_window:.1f} s |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--products", type=int, default=2_000)
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--plan", default="special")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.runs, arguments.customers, arguments.products, arguments.orders, arguments.plan))
