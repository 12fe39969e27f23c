"""Provisioning latency: sign-ups through the public API and the job queue, from the request to the tenant
being active, beside the raw ``CREATE DATABASE ... TEMPLATE`` it rests on, measured in the same run.

    python -m bench.provisioning [--signups 100] [--concurrency 1]

Uses the PostgreSQL at WOSOOL_BENCH_DATABASE_URL (default: the local service) and the Redis at
WOSOOL_BENCH_REDIS_URL (default: database 14 of the local service); creates its own registry database, starts
`wosool serve` and `wosool worker`, and drops everything it made at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
from redis.asyncio import Redis

from app.lib.dsn import with_database
from app.registry import database as registry
from app.settings import Settings
from app.tenancy import databases
from app.tenancy.migrate import migrate_everything

SERVER_URL = os.environ.get("WOSOOL_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("WOSOOL_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def raw_clones(template: str, count: int) -> list[float]:
    """Milliseconds per bare CREATE DATABASE ... TEMPLATE, the floor under provisioning."""
    admin = await asyncpg.connect(SERVER_URL)
    timings, names = [], []
    try:
        for _ in range(count):
            name = f"bench_raw_{uuid.uuid4().hex[:10]}"
            started = time.perf_counter()
            await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            timings.append((time.perf_counter() - started) * 1000)
            names.append(name)
    finally:
        for name in names:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await admin.close()
    return timings


async def sign_up_and_wait(client: httpx.AsyncClient, number: int) -> float:
    started = time.perf_counter()
    response = await client.post(
        "/api/auth/register-organization",
        json={
            "name": f"Bench Shop {number}",
            "slug": f"bench-{number}",
            "email": f"owner{number}@bench.example",
            "password": "correct horse battery",
        },
        # Each sign-up from its own (documentation-range) address, as real merchants are: the per-address
        # sign-up limit is not what this measures. uvicorn trusts X-Forwarded-For from 127.0.0.1.
        headers={"X-Forwarded-For": f"192.0.2.{number % 250}"},
    )
    response.raise_for_status()
    status_url = response.json()["status_url"]
    while True:
        status = (await client.get(status_url)).json()["status"]
        if status == "active":
            return (time.perf_counter() - started) * 1000
        if status == "failed":
            raise SystemExit(f"bench-{number} failed to provision")
        await asyncio.sleep(0.005)


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("w") as out:
        return subprocess.Popen([sys.executable, "-m", "app", *args], env=env, stdout=out, stderr=subprocess.STDOUT)


async def main(signups: int, concurrency: int, workers: int) -> None:
    registry_name = f"bench_registry_{uuid.uuid4().hex[:8]}"
    registry_url = with_database(SERVER_URL, registry_name)
    admin = await asyncpg.connect(SERVER_URL)
    await admin.execute(f'CREATE DATABASE "{registry_name}"')
    settings = Settings(database_url=registry_url, redis_url=REDIS_URL, queue_name=f"bench-{uuid.uuid4().hex[:6]}")
    registry.bind(registry_url)
    await migrate_everything(settings)
    redis = Redis.from_url(REDIS_URL)
    await redis.flushdb()
    port = 18000 + os.getpid() % 1000
    env = {
        **os.environ,
        "DATABASE_URL": registry_url,
        "REDIS_URL": REDIS_URL,
        "WOSOOL_QUEUE": settings.queue_name,
        "LOG_LEVEL": "WARNING",
    }
    logs = Path(tempfile.mkdtemp(prefix="wosool-bench-"))
    processes = [start(["serve", "--port", str(port)], env, logs / "web.log")]
    processes += [start(["worker", "--concurrency", "8"], env, logs / f"worker{n}.log") for n in range(workers)]
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            for _ in range(300):
                try:
                    if (await client.get("/api/ready")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
            await sign_up_and_wait(client, 0)  # warm-up: first connections, imports
            limit = asyncio.Semaphore(concurrency)

            async def one(number: int) -> float:
                async with limit:
                    return await sign_up_and_wait(client, number)

            wall = time.perf_counter()
            latencies = await asyncio.gather(*(one(n) for n in range(1, signups + 1)))
            wall = time.perf_counter() - wall
        template = f"{registry_name}_template"
        clones = await raw_clones(template, signups)
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        await _drop_everything(admin, registry_url, registry_name)
        await redis.flushdb()
        await redis.aclose()
        await admin.close()

    p50, p99 = statistics.median(latencies), percentile(latencies, 0.99)
    raw50, raw99 = statistics.median(clones), percentile(clones, 0.99)
    print(f"{signups} sign-ups, {concurrency} at a time, {workers} worker process(es); one run")
    print("| measure | p50 | p99 |")
    print("| --- | --- | --- |")
    print(f"| sign-up request to tenant active (API + queue + provisioning) | {p50:.0f} ms | {p99:.0f} ms |")
    print(f"| raw CREATE DATABASE ... TEMPLATE, same server, same run | {raw50:.0f} ms | {raw99:.0f} ms |")
    print(f"| ratio provisioning / raw clone | {p50 / raw50:.1f}x | {p99 / raw99:.1f}x |")
    print(f"| throughput | {signups / wall:.1f} tenants/s | |")


async def _drop_everything(admin: asyncpg.Connection, registry_url: str, registry_name: str) -> None:
    connection = await asyncpg.connect(registry_url)
    try:
        names = [row["database_name"] for row in await connection.fetch("SELECT database_name FROM tenants")]
    finally:
        await connection.close()
    for name in names:
        await databases.drop_database(admin, name)
        await databases.drop_role(admin, name)
    await databases.drop_database(admin, f"{registry_name}_template")
    await databases.drop_database(admin, registry_name)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--signups", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.signups, arguments.concurrency, arguments.workers))
