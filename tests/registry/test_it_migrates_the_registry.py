from __future__ import annotations

import asyncio

import asyncpg

from app.registry import database as registry
from app.settings import PROJECT_ROOT
from tests.services import TestServers, create_database, drop_database, unique_name


async def _tables(url: str) -> set[str]:
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {row["tablename"] for row in rows}
    finally:
        await connection.close()


async def test_it_creates_the_tables_and_a_second_run_changes_nothing(servers: TestServers) -> None:
    name = unique_name("wosool_test_migrate")
    await create_database(servers.server_url, name)
    url = servers.database_url(name)
    try:
        registry.bind(url)
        await registry.migrate()
        first = await _tables(url)
        await registry.migrate()

        assert {"worker_heartbeats", "migration"} <= first
        assert await _tables(url) == first
    finally:
        await drop_database(servers.server_url, name)


async def test_two_processes_migrating_at_once_take_turns(servers: TestServers) -> None:
    name = unique_name("wosool_test_migrate")
    await create_database(servers.server_url, name)
    url = servers.database_url(name)
    try:
        registry.bind(url)
        await asyncio.gather(registry.migrate(), registry.migrate(), registry.migrate())

        connection = await asyncpg.connect(url)
        try:
            applied = await connection.fetchval("SELECT count(*) FROM migration WHERE app_name = 'registry'")
        finally:
            await connection.close()
        assert applied == len(list((PROJECT_ROOT / "migrations" / "registry").glob("*.py")))
    finally:
        await drop_database(servers.server_url, name)
