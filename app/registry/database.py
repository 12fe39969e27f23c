"""Connecting to the registry database and migrating it."""

from __future__ import annotations

import contextlib
import io
import os

os.environ.setdefault("PICCOLO_CONF", "app.registry.piccolo_conf")

import asyncpg
from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.engine.postgres import PostgresEngine

from app.lib.pg import StatelessConnection
from app.registry import piccolo_conf

__all__ = ["bind", "close_pool", "engine", "migrate", "open_pool", "ping"]


def engine() -> PostgresEngine:
    """The process's one registry engine (what every Piccolo table uses)."""
    return piccolo_conf.DB


def bind(dsn: str) -> None:
    """Point the registry engine at ``dsn``. Call before opening the pool."""
    if not dsn:
        raise ValueError("the registry database URL is empty")
    engine().config = {"dsn": dsn}


_pool_users = 0


async def open_pool(*, max_size: int = 10) -> None:
    """Open the registry pool, or join the one already open (web and worker share it in `wosool dev`).

    ``min_size=0``: the pool opens even while the database is down, so the process starts and
    ``/api/ready`` can say what is wrong.
    """
    global _pool_users
    _pool_users += 1
    if engine().pool is None:
        await engine().start_connection_pool(
            min_size=0, max_size=max_size, command_timeout=30, connection_class=StatelessConnection
        )


async def close_pool(*, everyone: bool = False) -> None:
    """Leave the pool; the last user closes it (``everyone=True``: close it now, whoever uses it)."""
    global _pool_users
    _pool_users = 0 if everyone else max(0, _pool_users - 1)
    if _pool_users == 0 and engine().pool is not None:
        await engine().close_connection_pool()


async def ping(within_seconds: float) -> None:
    """Raise unless the registry database answers ``SELECT 1`` in time."""
    pool = engine().pool
    if pool is None:
        raise RuntimeError("registry pool is not open")
    async with pool.acquire(timeout=within_seconds) as connection:
        await connection.fetchval("SELECT 1", timeout=within_seconds)


# Any constant works; it only has to be the same in every process that migrates the registry.
_MIGRATION_LOCK_ID = 0x5705001


async def migrate(*, quiet: bool = True) -> None:
    """Apply every registry migration that has not run yet; raise if one fails.

    Two processes migrating at once (two `wosool migrate`, or `dev` beside a test) take turns on a
    PostgreSQL advisory lock instead of racing on Piccolo's bookkeeping table.
    """
    lock_connection = await asyncpg.connect(engine().config["dsn"])
    try:
        await lock_connection.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK_ID)
        output = io.StringIO()
        with contextlib.redirect_stdout(output) if quiet else contextlib.nullcontext():
            result = await run_forwards(app_name="registry", migration_id="all")
        if not result.success:
            raise RuntimeError(f"registry migration failed: {result.message}\n{output.getvalue()}")
    finally:
        await lock_connection.close()  # closing the session releases the advisory lock
