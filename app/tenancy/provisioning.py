"""Provisioning: from a registered tenant to a live database, as an idempotent state machine.

Each step looks at what already exists, so a run interrupted anywhere (a crash, a killed worker, a lost
connection) is finished by the next run, and two runs never provision one tenant at the same time (a job key
in SAQ, and a PostgreSQL advisory lock here as well).

    role → database → restrict → adopt → migrate → seed → activate
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import asyncpg
from redis.asyncio import Redis

from app.admin import audit
from app.lib.crypto import SecretBox
from app.lib.dsn import with_database
from app.settings import Settings
from app.tenancy import databases, repository, schema
from app.tenancy.repository import ServerRecord, TenantRecord
from app.tenancy.services import server_admin_dsn, tenant_changed

__all__ = [
    "STEPS",
    "ProvisioningFailed",
    "TransientProvisioningError",
    "ensure_template_current",
    "mark_failed",
    "provision",
]

STEPS = ("role", "database", "restrict", "adopt", "migrate", "seed", "activate")
AfterStep = Callable[[str], Awaitable[None]]


class ProvisioningFailed(Exception):
    """A permanent problem: retrying will not help until someone fixes it."""


class TransientProvisioningError(Exception):
    """Worth retrying soon: a busy template, a dropped connection."""


TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    TransientProvisioningError,
    databases.TemplateBusy,
    OSError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.DeadlockDetectedError,
    TimeoutError,
)


async def provision(
    tenant_id: uuid.UUID, settings: Settings, redis: Redis, *, after_step: AfterStep | None = None
) -> TenantRecord:
    """Bring the tenant to ``active``. Safe to call any number of times, concurrently too."""
    tenant = await repository.tenant_by_id(tenant_id)
    if tenant is None:
        raise ProvisioningFailed(f"tenant {tenant_id} does not exist")
    if tenant.status == "active":
        return tenant
    if tenant.status not in ("provisioning", "failed"):
        raise ProvisioningFailed(f"tenant '{tenant.slug}' is {tenant.status}; only new tenants are provisioned")

    await repository.update_tenant(tenant.id, provision_attempts=tenant.provision_attempts + 1)
    server = await repository.get_server(tenant.server_id)
    admin_dsn = server_admin_dsn(server, settings)
    await ensure_template_current(server, admin_dsn)
    password = SecretBox(settings.encryption_keys).decrypt(tenant.role_password_encrypted)
    step = after_step or _no_hook

    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute("SELECT pg_advisory_lock(hashtext($1))", f"wosool:provision:{tenant.id}")
        await databases.ensure_role(admin, tenant.role_name, password)
        await step("role")
        await databases.ensure_database(
            admin, tenant.database_name, template=server.template_database, owner=tenant.role_name
        )
        await step("database")
        await databases.restrict_connect(admin, tenant.database_name, tenant.role_name)
        await step("restrict")
        version = await _prepare_inside(tenant, with_database(admin_dsn, tenant.database_name), step)
        activated = await repository.update_tenant(
            tenant.id, status="active", schema_version=version, last_error="", activated_at=datetime.now(UTC)
        )
        assert activated is not None
        await tenant_changed(redis, tenant.slug)
        await audit.record("system", "tenant.activated", tenant_slug=tenant.slug, schema_version=version)
        await step("activate")
        return activated
    finally:
        await admin.close()  # also releases the advisory lock


async def _prepare_inside(tenant: TenantRecord, tenant_admin_dsn: str, step: AfterStep) -> int:
    connection = await asyncpg.connect(tenant_admin_dsn)
    try:
        await databases.adopt_template_objects(connection, tenant.role_name)
        await step("adopt")
        version = await schema.apply_migrations(connection, owner_role=tenant.role_name)
        await step("migrate")
        async with connection.transaction():
            await connection.execute(f"SET LOCAL ROLE {databases.quote(tenant.role_name)}")
            await connection.execute(
                "INSERT INTO workspace (id, tenant_id, slug, name) VALUES (1, $1, $2, $3) ON CONFLICT (id) DO NOTHING",
                tenant.id,
                tenant.slug,
                tenant.name,
            )
        await step("seed")
        return version
    finally:
        await connection.close()


async def ensure_template_current(server: ServerRecord, admin_dsn: str) -> int:
    """Create and migrate the server's template database when the registry says it is behind."""
    latest = schema.latest_version()
    if server.template_version >= latest:
        return server.template_version
    admin = await asyncpg.connect(admin_dsn)
    try:
        await databases.ensure_template(admin, server.template_database)
    finally:
        await admin.close()
    template = await asyncpg.connect(with_database(admin_dsn, server.template_database))
    try:
        await databases.grant_template_owner(template, server.template_database)
        version = await schema.apply_migrations(template, owner_role=databases.TEMPLATE_OWNER)
    finally:
        await template.close()  # nobody may stay connected: CREATE DATABASE ... TEMPLATE needs it idle
    await repository.update_server(server.id, template_version=version)
    return version


async def mark_failed(tenant_id: uuid.UUID, reason: str, redis: Redis) -> None:
    tenant = await repository.update_tenant(tenant_id, status="failed", last_error=reason[:2000])
    if tenant is not None:
        await tenant_changed(redis, tenant.slug)
        await audit.record("system", "tenant.provisioning_failed", tenant_slug=tenant.slug, reason=reason[:500])


async def _no_hook(step: str) -> None:
    return None
