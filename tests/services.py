"""Real PostgreSQL and Redis for the tests: the ones named by WOSOOL_TEST_DATABASE_URL and
WOSOOL_TEST_REDIS_URL, or embedded servers started once per test session."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from app.lib.dsn import with_database
from app.lib.embedded import EmbeddedServices, start_embedded
from app.tenancy import databases

__all__ = ["TestServers", "create_database", "drop_database", "drop_tenant_databases", "start_test_servers"]


@dataclass
class TestServers:
    __test__ = False  # not a test class, whatever pytest thinks of the name

    server_url: str
    """A PostgreSQL URL with the right to create databases (its database is only used to connect)."""
    redis_url: str
    embedded: EmbeddedServices | None = None

    def database_url(self, name: str) -> str:
        return with_database(self.server_url, name)


def start_test_servers(data_dir: Path) -> TestServers:
    database_url = os.environ.get("WOSOOL_TEST_DATABASE_URL", "")
    redis_url = os.environ.get("WOSOOL_TEST_REDIS_URL", "")
    embedded = None
    if not database_url or not redis_url:
        embedded = start_embedded(data_dir, postgres=not database_url, redis=not redis_url)
    return TestServers(
        server_url=database_url or embedded.database_url,  # type: ignore[union-attr]
        redis_url=_own_redis_database(redis_url) if redis_url else embedded.redis_url,  # type: ignore[union-attr]
        embedded=embedded,
    )


def _own_redis_database(url: str) -> str:
    """With pytest-xdist, worker N uses Redis database <given> + N: every test empties its Redis database, which
    must not be another worker's (PostgreSQL needs nothing: every test has databases of its own)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return url
    base, _, number = url.rpartition("/")
    first = int(number) if number.isdigit() else 0
    return f"{base}/{(first + int(worker[2:])) % 16}"


def unique_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


async def create_database(server_url: str, name: str, *, template: str | None = None) -> None:
    connection = await asyncpg.connect(server_url)
    try:
        clause = f' TEMPLATE "{template}"' if template else ""
        await connection.execute(f'CREATE DATABASE "{name}"{clause}')
    finally:
        await connection.close()


async def drop_database(server_url: str, name: str) -> None:
    connection = await asyncpg.connect(server_url)
    try:
        await databases.drop_database(connection, name)  # also unmarks a template database first
    finally:
        await connection.close()


async def drop_tenant_databases(server_url: str, registry_url: str) -> None:
    """Drop every tenant database and role a test's registry knows of (roles are server-wide: they would
    outlive the test otherwise)."""
    try:
        registry = await asyncpg.connect(registry_url)
    except asyncpg.InvalidCatalogNameError:
        return  # the test dropped its registry itself
    try:
        names = [row["database_name"] for row in await registry.fetch("SELECT database_name FROM tenants")]
    finally:
        await registry.close()
    connection = await asyncpg.connect(server_url)
    try:
        for name in names:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await connection.execute(f'DROP ROLE IF EXISTS "{name}"')
    finally:
        await connection.close()
