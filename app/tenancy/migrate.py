"""``wosool migrate``: the registry, then each server's template, then every tenant database."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

import asyncpg

from app.lib.dsn import database_name, with_database
from app.registry import database as registry
from app.settings import Settings
from app.tenancy import repository, schema
from app.tenancy.provisioning import ensure_template_current
from app.tenancy.repository import TenantRecord
from app.tenancy.services import server_admin_dsn

__all__ = ["MigrationSummary", "migrate_everything", "migrate_tenants"]

# Tenants whose database exists and must follow the schema.
_WITH_DATABASE = ("active", "suspended", "deleting")


@dataclass
class MigrationSummary:
    latest_version: int
    templates: dict[str, int] = field(default_factory=dict)
    migrated: list[str] = field(default_factory=list)
    already_current: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed

    def lines(self) -> list[str]:
        lines = [f"tenant schema version {self.latest_version}"]
        lines += [f"template on {name}: version {version}" for name, version in self.templates.items()]
        lines.append(
            f"tenants: {len(self.migrated)} migrated, {len(self.already_current)} already current, "
            f"{len(self.failed)} failed"
        )
        lines += [f"  FAILED {slug}: {error}" for slug, error in sorted(self.failed.items())]
        return lines


async def migrate_everything(
    settings: Settings, *, concurrency: int = 4, progress: Callable[[str], None] | None = None
) -> MigrationSummary:
    await registry.migrate()
    await repository.ensure_default_server(f"{database_name(settings.database_url)}_template")
    return await migrate_tenants(settings, concurrency=concurrency, progress=progress)


async def migrate_tenants(
    settings: Settings, *, concurrency: int = 4, progress: Callable[[str], None] | None = None
) -> MigrationSummary:
    """Bring templates and tenants to the latest schema; one failing tenant does not stop the others.

    Resumable: each migration file is recorded in the tenant's database as it is applied, so a second run
    continues where the first stopped.
    """
    summary = MigrationSummary(latest_version=schema.latest_version())
    for server in await repository.list_servers():
        summary.templates[server.name] = await ensure_template_current(server, server_admin_dsn(server, settings))
    limit = asyncio.Semaphore(concurrency)

    async def migrate_one(tenant: TenantRecord) -> None:
        if tenant.schema_version >= summary.latest_version:
            summary.already_current.append(tenant.slug)
            return
        async with limit:
            try:
                version = await _migrate_tenant(tenant, settings)
            except Exception as error:  # recorded and reported; the others carry on
                summary.failed[tenant.slug] = f"{type(error).__name__}: {error}"
                return
        summary.migrated.append(tenant.slug)
        if progress:
            progress(f"{tenant.slug}: version {version}")

    await asyncio.gather(*(migrate_one(t) for t in await repository.list_tenants(statuses=_WITH_DATABASE)))
    return summary


async def _migrate_tenant(tenant: TenantRecord, settings: Settings) -> int:
    server = await repository.get_server(tenant.server_id)
    connection = await asyncpg.connect(with_database(server_admin_dsn(server, settings), tenant.database_name))
    try:
        version = await schema.apply_migrations(connection, owner_role=tenant.role_name)
    finally:
        await connection.close()
    await repository.update_tenant(tenant.id, schema_version=version)
    return version
