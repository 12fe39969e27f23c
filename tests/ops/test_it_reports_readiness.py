from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta

from httpx import AsyncClient

from app.factory import create_app
from app.lib.dsn import database_name
from app.ops import heartbeats
from app.settings import Settings
from tasks.worker import create_worker
from tests.conftest import app_client
from tests.services import TestServers, drop_database


async def _beat(age: timedelta) -> None:
    now = datetime.now(UTC)
    await heartbeats.save_beat(
        worker_id="worker-1", hostname="test", pid=1, queue="wosool", started_at=now - age, beat_at=now - age
    )


async def test_it_is_ready_with_a_fresh_heartbeat(client: AsyncClient) -> None:
    await _beat(timedelta(seconds=1))

    response = await client.get("/api/ready")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready"
    assert body["failing"] == []
    assert set(body["checks"]) == {"database", "redis", "worker"}
    assert body["checks"]["worker"]["heartbeat_age_seconds"] < 5


async def test_it_names_the_worker_when_no_worker_ever_beat(client: AsyncClient) -> None:
    response = await client.get("/api/ready")

    assert response.status_code == 503
    assert response.json()["failing"] == ["worker"]
    assert "no worker" in response.json()["checks"]["worker"]["detail"]


async def test_it_names_the_worker_when_its_heartbeat_is_stale(client: AsyncClient) -> None:
    await _beat(timedelta(minutes=5))

    response = await client.get("/api/ready")

    assert response.status_code == 503
    assert response.json()["failing"] == ["worker"]
    assert "old" in response.json()["checks"]["worker"]["detail"]


async def test_it_names_redis_when_redis_is_down(settings: Settings) -> None:
    await _beat(timedelta(seconds=1))
    down = dataclasses.replace(settings, redis_url="redis://127.0.0.1:1/0")

    async with app_client(create_app(down)) as client:
        response = await client.get("/api/ready")

    assert response.status_code == 503
    assert response.json()["failing"] == ["redis"]
    assert response.json()["checks"]["redis"]["detail"]


async def test_it_names_the_database_when_postgres_is_unreachable(settings: Settings) -> None:
    down = dataclasses.replace(settings, database_url="postgresql://postgres@127.0.0.1:1/wosool")

    async with app_client(create_app(down)) as client:
        response = await client.get("/api/ready")

    assert response.status_code == 503
    assert "database" in response.json()["failing"]
    assert "redis" not in response.json()["failing"]


async def test_it_names_the_database_when_it_disappears_while_running(
    client: AsyncClient, settings: Settings, servers: TestServers
) -> None:
    await _beat(timedelta(seconds=1))
    assert (await client.get("/api/ready")).status_code == 200

    await drop_database(servers.server_url, database_name(settings.database_url))
    response = await client.get("/api/ready")

    assert response.status_code == 503
    assert "database" in response.json()["failing"]


async def test_it_turns_ready_once_a_real_worker_processes_its_heartbeat_job(
    client: AsyncClient, settings: Settings
) -> None:
    assert (await client.get("/api/ready")).status_code == 503

    worker = create_worker(settings, concurrency=2, handle_signals=False)
    running = asyncio.create_task(worker.start())
    try:
        for _ in range(100):
            response = await client.get("/api/ready")
            if response.status_code == 200:
                break
            await asyncio.sleep(0.1)
    finally:
        await worker.stop()
        await running

    assert response.status_code == 200, response.text
    assert await heartbeats.newest_beat() is not None
