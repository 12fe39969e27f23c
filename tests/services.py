"""Real PostgreSQL and Redis for the tests: the ones named by WOSOOL_TEST_DATABASE_URL and
WOSOOL_TEST_REDIS_URL, or embedded servers started once per test session."""

from __future__ import annotations

import asyncio
import os
import subprocess
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from app.lib.dsn import with_database
from app.lib.embedded import EmbeddedServices, start_embedded
from app.tenancy import databases

__all__ = [
    "DatabaseJanitor",
    "RegistryStock",
    "TestServers",
    "create_database",
    "drop_database",
    "drop_tenant_databases",
    "start_test_servers",
]


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


@dataclass
class DatabaseJanitor:
    """Drops finished tests' registry databases, with their tenants' databases and roles, in a background thread,
    a batch at a time on a few connections.

    Why: PostgreSQL 15 takes an immediate checkpoint (every dirty buffer of the server written and fsynced) for
    each DROP DATABASE. Dropped in each test's teardown, those checkpoints were ~40% of the suite's time; dropped
    together, the drops of a batch share a checkpoint or two, and no test waits for them.
    """

    server_url: str
    batch_size: int = 8
    """Registries gathered before a batch is dropped (each ~8 MB on disk, plus its tenants')."""
    connections: int = 4
    problems: list[str] = field(default_factory=list)
    _pending: list[str] = field(default_factory=list)
    _processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _closing: bool = False
    _wake: threading.Condition = field(default_factory=threading.Condition)
    _thread: threading.Thread | None = None

    def __post_init__(self) -> None:
        self._thread = threading.Thread(target=self._run, name="database-janitor", daemon=True)
        self._thread.start()

    def drop_later(self, registry_name: str) -> None:
        """Drop this registry database, and every tenant database and role it knows of, soon."""
        with self._wake:
            self._pending.append(registry_name)
            self._wake.notify()

    def drop_after_exit(self, process: subprocess.Popen[bytes]) -> None:
        """Drop nothing more before ``process`` (told to stop) has exited: it may still be writing to its test's
        databases, say provisioning a tenant the registry does not list yet."""
        with self._wake:
            self._processes.append(process)

    def close(self) -> list[str]:
        """Drop everything still pending; the problems met on the way (empty when all went well)."""
        with self._wake:
            self._closing = True
            self._wake.notify()
        assert self._thread is not None
        self._thread.join()
        return self.problems

    def _run(self) -> None:
        while batch := self._next_batch():
            self._wait_for_processes()
            try:
                asyncio.run(self._drop(batch))
            except Exception as error:  # reported by close(), never lost in this thread
                self.problems.append(f"dropping {batch}: {error!r}")
        self._wait_for_processes()

    def _wait_for_processes(self) -> None:
        with self._wake:
            processes, self._processes = self._processes, []
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.problems.append(f"process {process.args!r} did not stop within 30 s of SIGTERM; killed")
                process.kill()
                process.wait()

    def _next_batch(self) -> list[str]:
        with self._wake:
            self._wake.wait_for(lambda: self._closing or len(self._pending) >= self.batch_size)
            batch, self._pending = self._pending, []
            return batch

    async def _drop(self, registries: list[str]) -> None:
        tenants = [name for registry in registries for name in await _tenant_databases(self.database_url(registry))]
        # A tenant's database and role share its name; the role owns the database, so the databases go first.
        await self._on_connections([f"DROP DATABASE IF EXISTS {_quote(name)} WITH (FORCE)" for name in tenants])
        await self._on_connections([f"DROP ROLE IF EXISTS {_quote(name)}" for name in tenants])
        await self._on_connections([f"DROP DATABASE IF EXISTS {_quote(name)} WITH (FORCE)" for name in registries])

    def database_url(self, name: str) -> str:
        return with_database(self.server_url, name)

    async def _on_connections(self, statements: list[str]) -> None:
        """Run ``statements`` on up to ``connections`` connections at once (concurrent drops share checkpoints)."""
        todo = list(reversed(statements))

        async def work() -> None:
            connection = await asyncpg.connect(self.server_url)
            try:
                while todo:
                    statement = todo.pop()
                    try:
                        await connection.execute(statement)
                    except asyncpg.PostgresError as error:
                        self.problems.append(f"{statement}: {error!r}")
            finally:
                await connection.close()

        await asyncio.gather(*(work() for _ in range(min(self.connections, len(statements)))))


async def _tenant_databases(registry_url: str) -> list[str]:
    try:
        registry = await asyncpg.connect(registry_url)
    except asyncpg.InvalidCatalogNameError:
        return []  # the test dropped its registry itself
    try:
        return [row["database_name"] for row in await registry.fetch("SELECT database_name FROM tenants")]
    finally:
        await registry.close()


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


@dataclass
class RegistryStock:
    """Fresh copies of the migrated registry, made a few tests ahead in a background thread, so a test's set-up
    takes one instead of waiting for CREATE DATABASE ... TEMPLATE. A copy is never used twice."""

    server_url: str
    template: str
    size: int = 2
    _ready: list[str] = field(default_factory=list)
    _problem: str = ""
    _closing: bool = False
    _changed: threading.Condition = field(default_factory=threading.Condition)
    _thread: threading.Thread | None = None

    def __post_init__(self) -> None:
        self._thread = threading.Thread(target=self._run, name="registry-stock", daemon=True)
        self._thread.start()

    def take(self) -> str:
        """The name of a registry database nobody has used yet (it belongs to the caller from now on)."""
        with self._changed:
            self._changed.wait_for(lambda: self._ready or self._problem)
            if not self._ready:
                raise RuntimeError(f"could not copy the registry template: {self._problem}")
            name = self._ready.pop(0)
            self._changed.notify_all()
            return name

    def close(self) -> list[str]:
        """Stop copying; the copies nobody took (the caller drops them)."""
        with self._changed:
            self._closing = True
            self._changed.notify_all()
        assert self._thread is not None
        self._thread.join()
        return self._ready

    def _run(self) -> None:
        asyncio.run(self._keep_stocked())

    async def _keep_stocked(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._closing or len(self._ready) < self.size)
                if self._closing:
                    return
            name = unique_name("wosool_test")
            try:
                await create_database(self.server_url, name, template=self.template)
            except Exception as error:  # handed to the test that waits for a copy
                with self._changed:
                    self._problem = repr(error)
                    self._changed.notify_all()
                return
            with self._changed:
                self._ready.append(name)
                self._changed.notify_all()
