"""The tenant database schema: ordered SQL files in ``migrations/tenant/``, applied and recorded per database."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import asyncpg

from app.settings import PROJECT_ROOT

__all__ = ["TenantMigration", "apply_migrations", "latest_version", "load_migrations"]

MIGRATIONS_DIR = PROJECT_ROOT / "migrations" / "tenant"
_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class TenantMigration:
    version: int
    name: str
    sql: str


@cache
def load_migrations(folder: Path = MIGRATIONS_DIR) -> tuple[TenantMigration, ...]:
    """Every migration in order; refuses badly named files and gaps in the numbering."""
    migrations = []
    for path in sorted(folder.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if not match:
            raise ValueError(f"tenant migration {path.name!r} is not named NNNN_what_it_does.sql")
        migrations.append(TenantMigration(int(match[1]), match[2], path.read_text()))
    for expected, migration in enumerate(migrations, start=1):
        if migration.version != expected:
            raise ValueError(f"tenant migrations must be numbered 1, 2, 3...; found {migration.version:04d}")
    return tuple(migrations)


def latest_version() -> int:
    migrations = load_migrations()
    return migrations[-1].version if migrations else 0


_BOOKKEEPING = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""
# One migrator per database at a time; any constant works.
_LOCK_ID = 0x5705002


async def apply_migrations(connection: asyncpg.Connection, *, owner_role: str) -> int:
    """Apply what this database lacks, each file in its own transaction as ``owner_role``; return the version.

    ``connection`` is an administrator's connection to the tenant (or template) database. Running the DDL
    as the owner role makes that role own the objects, which is what lets it alter them later.
    """
    await connection.execute("SELECT pg_advisory_lock($1)", _LOCK_ID)
    try:
        async with connection.transaction():
            await connection.execute(f"SET LOCAL ROLE {_quoted(owner_role)}")
            await connection.execute(_BOOKKEEPING)
        applied = {row["version"] for row in await connection.fetch("SELECT version FROM schema_migrations")}
        for migration in load_migrations():
            if migration.version in applied:
                continue
            async with connection.transaction():
                await connection.execute(f"SET LOCAL ROLE {_quoted(owner_role)}")
                await connection.execute(migration.sql)
                await connection.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                    migration.version,
                    migration.name,
                )
        version: int = await connection.fetchval("SELECT coalesce(max(version), 0) FROM schema_migrations")
        return version
    finally:
        await connection.execute("SELECT pg_advisory_unlock($1)", _LOCK_ID)


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
