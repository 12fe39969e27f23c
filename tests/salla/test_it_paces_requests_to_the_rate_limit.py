"""Every process shares one request budget per store: a burst larger than Salla's limit waits instead of meeting
a 429, the customers endpoints keep to their own limit without holding back the rest, and a storm of 429s slows
requests down without failing any."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from redis.asyncio import Redis

from app.salla.accounts import grant_from_payload
from app.salla.client import SallaClient, SallaPage
from app.salla.rate_budget import CUSTOMERS_LIMIT, BucketLimit, RateBudget, buckets_for, plan_limit
from app.salla.sandbox import Sandbox
from app.salla.store_repository import StoreRecord, ensure_store, update_store
from app.salla.tokens import save_grant
from app.settings import PROJECT_ROOT, Settings
from tests.conftest import wosool_env
from tests.salla.support import MERCHANT, until


async def connected_store(sandbox: Sandbox, settings: Settings, plan: str) -> StoreRecord:
    store = await ensure_store(MERCHANT)
    await update_store(store.id, plan=plan)
    return await save_grant(store.id, grant_from_payload(sandbox.issue_tokens(MERCHANT)), settings)


async def read_pages(store: StoreRecord, settings: Settings, path: str, count: int) -> int:
    """``count`` GETs through a client of its own (its own Redis connection, like another job); its waits."""
    redis = Redis.from_url(settings.redis_url)
    try:
        async with SallaClient(store, settings, redis) as client:
            for page in range(count):
                found = await client.get(path, {"page": page % 3 + 1, "per_page": 15})
                assert isinstance(found, SallaPage)
            return client.throttled
    finally:
        await redis.aclose()


READ_IN_A_PROCESS = """
import asyncio, sys, uuid
from redis.asyncio import Redis
from app.registry import database as registry
from app.salla.client import SallaClient
from app.salla.store_repository import store_by_id
from app.settings import Settings

async def main() -> None:
    settings = Settings.from_env()
    registry.bind(settings.database_url)
    redis = Redis.from_url(settings.redis_url)
    async with SallaClient(await store_by_id(uuid.UUID(sys.argv[1])), settings, redis) as client:
        for _ in range(int(sys.argv[2])):
            await client.get("/orders")
    print(client.requests)
    await redis.aclose()

asyncio.run(main())
"""


async def test_it_spreads_a_burst_beyond_the_limit_over_the_next_window_without_a_429(
    sandbox: Sandbox, salla_settings: Settings, tmp_path: Path
) -> None:
    """Salla allows 60 requests a minute here (no leak after them); 66 are asked for by three jobs in this process
    and one in another. It takes a little over a minute: the 61st request waits for the next window."""
    store = await connected_store(sandbox, salla_settings, plan="plus")
    sandbox.set_rate_limit(MERCHANT, per_minute=60, leak_per_second=0)
    script = tmp_path / "read.py"
    script.write_text(READ_IN_A_PROCESS)
    env = wosool_env(
        DATABASE_URL=salla_settings.database_url,
        REDIS_URL=salla_settings.redis_url,
        SALLA_API_URL=salla_settings.salla.api_url,
        PYTHONPATH=str(PROJECT_ROOT),
    )
    other_process = await asyncio.create_subprocess_exec(
        sys.executable, str(script), str(store.id), "12", env=env, stdout=asyncio.subprocess.PIPE
    )

    waits = await asyncio.gather(
        read_pages(store, salla_settings, "/customers", 18),
        read_pages(store, salla_settings, "/products", 18),
        read_pages(store, salla_settings, "/orders", 18),
    )
    stdout, _ = await other_process.communicate()

    assert other_process.returncode == 0
    assert stdout.decode().split()[-1] == "12"
    stats = sandbox.stats(MERCHANT)
    assert stats.requests == 66
    assert stats.throttled == 0
    assert min(waits) > 0


async def test_it_keeps_to_the_customers_own_limit_without_holding_back_the_rest(
    sandbox: Sandbox, salla_settings: Settings, redis: Redis
) -> None:
    """Scaled down: Salla allows 8 customers requests per 10 minutes; the budget, like the real one, keeps
    headroom (a burst of 4, then one every 150 s: never more than 8 in any 10 minutes)."""
    store = await connected_store(sandbox, salla_settings, plan="pro")
    sandbox.set_rate_limit(MERCHANT, customers_per_10_minutes=8)
    scaled = BucketLimit("customers", 4, 600.0, burst_fraction=1.0)

    async def get(path: str) -> SallaPage:
        budget = RateBudget(redis, store.id, store.plan, customers=scaled)
        async with SallaClient(store, salla_settings, redis, budget=budget) as client:
            return await client.get(path)

    customers = [asyncio.create_task(get("/customers")) for _ in range(10)]
    async with asyncio.timeout(30):  # a deadline against hanging: the others do not wait for the customers' budget
        others = await asyncio.gather(*(get(path) for path in ("/products", "/orders") * 5))
    await until(lambda: _done(customers, 4), "four customers requests")
    await asyncio.sleep(0.5)  # the other six keep waiting for the customers' budget
    waiting = [task for task in customers if not task.done()]
    for task in waiting:
        task.cancel()
    await asyncio.gather(*waiting, return_exceptions=True)

    assert len(others) == 10
    assert len(waiting) == 6
    stats = sandbox.stats(MERCHANT)
    assert stats.by_path["/customers"] == 4
    assert stats.throttled == 0


async def _done(tasks: list[asyncio.Task[SallaPage]], count: int) -> bool:
    return sum(task.done() for task in tasks) >= count


async def test_it_rides_out_a_storm_of_429s(sandbox: Sandbox, salla_settings: Settings, redis: Redis) -> None:
    store = await connected_store(sandbox, salla_settings, plan="pro")
    sandbox.storm(MERCHANT, count=6, status=429, retry_after=1)

    async def read(path: str) -> tuple[int, int]:
        async with SallaClient(store, salla_settings, redis) as client:
            for _ in range(4):
                await client.get(path)
            return client.requests, client.rate_limited

    results = await asyncio.gather(read("/customers"), read("/products"), read("/orders"))

    stats = sandbox.stats(MERCHANT)
    assert stats.throttled == 6
    assert stats.by_status == {429: 6, 200: 12}
    assert sum(rate_limited for _, rate_limited in results) == 6
    assert sum(requests for requests, _ in results) == 18


def test_it_knows_salla_s_limits() -> None:
    assert [plan_limit(plan).requests for plan in ("plus", "pro", "Special", "", "basic")] == [120, 360, 720, 120, 120]
    assert buckets_for("/customers/12", "pro") == (plan_limit("pro"), CUSTOMERS_LIMIT)
    assert buckets_for("/customers", "pro") == (plan_limit("pro"), CUSTOMERS_LIMIT)
    assert buckets_for("/orders", "pro") == (plan_limit("pro"),)
    # Any ten minutes hold at most the burst plus the paced requests: within Salla's 500.
    burst = int(CUSTOMERS_LIMIT.requests * CUSTOMERS_LIMIT.burst_fraction + 1e-6)
    assert CUSTOMERS_LIMIT.per_seconds == 600
    assert burst + CUSTOMERS_LIMIT.requests <= 500
