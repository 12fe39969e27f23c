"""Install to ready: from Salla's ``app.store.authorize`` webhook to the merchant's CRM active and its first
customers visible in it.

    python -m bench.salla_install [--installs 10] [--customers 2000]

Runs the Salla sandbox in this process (served over HTTP), and `wosool serve` + `wosool worker` as real processes
pointed at it, against a throwaway registry on WOSOOL_BENCH_DATABASE_URL / WOSOOL_BENCH_REDIS_URL. Each install is
a new sandbox store: ``app.installed`` then ``app.store.authorize`` are posted, signed, to ``POST /webhooks/salla``;
the clock stops at (a) the tenant active, (b) the first customers readable in the tenant's database (the first
synced page). Prints each stage's median and worst. Target (issue 6): (b) under 2 s. Drops everything it made.
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
from app.salla import store_repository
from app.salla.sandbox import Sandbox, serve_sandbox
from app.settings import Settings
from app.tenancy import databases
from app.tenancy.migrate import migrate_everything
from app.tenancy.repository import list_tenants, tenant_by_id
from app.tenancy.services import tenant_database

SERVER_URL = os.environ.get("WOSOOL_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("WOSOOL_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
WEBHOOK_SECRET = "bench-webhook-secret"  # noqa: S105 (the sandbox's)
FIRST_MERCHANT = 700_000


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "app", *args], env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )


async def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(600):
            if process.poll() is not None:
                raise SystemExit(f"process exited:\n{_tail(log)}")
            try:
                if (await http.get(f"{url}/api/health")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit(f"{url} did not start:\n{_tail(log)}")


def _tail(log: Path) -> str:
    return log.read_text()[-3000:]


async def _first_customers_visible(merchant_id: int, settings: Settings, started: float) -> tuple[float, float]:
    """Seconds until the tenant is active, and until its first synced customers are readable."""
    active_at = 0.0
    while True:
        store = await store_repository.store_by_merchant(merchant_id)
        tenant = await tenant_by_id(store.tenant_id) if store and store.tenant_id else None
        if tenant is not None and tenant.status == "active":
            active_at = active_at or time.perf_counter() - started
            target = await tenant_database(tenant, settings)
            connection = await asyncpg.connect(target.dsn)
            try:
                if await connection.fetchval("SELECT count(*) FROM people WHERE salla_id IS NOT NULL"):
                    return active_at, time.perf_counter() - started
            finally:
                await connection.close()
        await asyncio.sleep(0.01)


async def main(installs: int, customers: int) -> None:
    registry_name = f"bench_install_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(SERVER_URL)
    await admin.execute(f'CREATE DATABASE "{registry_name}"')
    settings = Settings(database_url=with_database(SERVER_URL, registry_name), redis_url=REDIS_URL)
    registry.bind(settings.database_url)
    await Redis.from_url(REDIS_URL).flushdb()
    processes: list[subprocess.Popen[bytes]] = []
    sandbox = Sandbox(client_id="bench-client", client_secret="bench-secret", webhook_secret=WEBHOOK_SECRET)
    for number in range(installs):
        sandbox.add_store(
            merchant_id=FIRST_MERCHANT + number,
            username=f"bench-store-{number}",
            name=f"متجر {number}",
            owner_email=f"owner{number}@bench.example",
            plan="pro",
            customers=customers,
            products=50,
            orders=100,
            seed=number,
        )
    try:
        await migrate_everything(settings)
        await registry.open_pool()
        async with serve_sandbox(sandbox, port=0) as sandbox_url:
            port = _free_port()
            env = {
                **os.environ,
                "DATABASE_URL": settings.database_url,
                "REDIS_URL": REDIS_URL,
                "SALLA_CLIENT_ID": "bench-client",
                "SALLA_CLIENT_SECRET": "bench-secret",
                "SALLA_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "SALLA_ACCOUNTS_URL": sandbox.accounts_url(sandbox_url),
                "SALLA_API_URL": sandbox.api_url(sandbox_url),
                "LOG_LEVEL": "WARNING",
            }
            logs = Path(tempfile.mkdtemp(prefix="bench-install-"))
            processes.append(_start(["serve", "--port", str(port)], env, logs / "web.log"))
            processes.append(_start(["worker"], env, logs / "worker.log"))
            base = f"http://127.0.0.1:{port}"
            await _wait_healthy(base, processes[0], logs / "web.log")
            active, visible = [], []
            async with httpx.AsyncClient(base_url=base) as http:
                for number in range(installs):
                    merchant = FIRST_MERCHANT + number
                    body, headers = sandbox.webhook("app.installed", merchant, {})
                    (await http.post("/webhooks/salla", content=body, headers=headers)).raise_for_status()
                    started = time.perf_counter()
                    body, headers = sandbox.webhook("app.store.authorize", merchant, sandbox.issue_tokens(merchant))
                    (await http.post("/webhooks/salla", content=body, headers=headers)).raise_for_status()
                    ready, seen = await asyncio.wait_for(_first_customers_visible(merchant, settings, started), 60)
                    active.append(ready * 1000)
                    visible.append(seen * 1000)
            _report(installs, customers, active, visible)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        for tenant in await list_tenants():
            await databases.drop_database(admin, tenant.database_name)
            await databases.drop_role(admin, tenant.role_name)
        await registry.close_pool(everyone=True)
        await databases.drop_database(admin, f"{registry_name}_template")
        await databases.drop_database(admin, registry_name)
        await admin.close()


def _report(installs: int, customers: int, active: list[float], visible: list[float]) -> None:
    print(f"install to ready: {installs} installs, {customers} customers per store; one web + one worker process")
    for label, values in (("tenant active", active), ("first customers visible", visible)):
        print(f"  authorize -> {label:24} median {statistics.median(values):7.0f} ms   worst {max(values):7.0f} ms")
    print("  target: first customers visible under 2000 ms")


def run(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--installs", type=int, default=10)
    parser.add_argument("--customers", type=int, default=2000)
    arguments = parser.parse_args(argv)
    asyncio.run(main(arguments.installs, arguments.customers))


if __name__ == "__main__":
    run()
