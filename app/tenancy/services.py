"""The rules of tenants: names, placement, lookup, lifecycle."""

from __future__ import annotations

import re
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from redis.asyncio import Redis
from saq import Queue

from app.admin import audit
from app.lib.crypto import SecretBox
from app.lib.dsn import with_credentials, with_database
from app.settings import Settings
from app.tenancy import cache, databases, repository
from app.tenancy.pools import TenantDatabase
from app.tenancy.repository import ServerRecord, SlugTaken, TenantRecord

__all__ = [
    "RESERVED_SLUGS",
    "InvalidSlug",
    "SlugTaken",
    "TenantNotFound",
    "TenantRecord",
    "WrongState",
    "check_slug",
    "delete_tenant",
    "find_tenant",
    "new_tenant",
    "new_tenant_with_free_slug",
    "purge_due_tenants",
    "reencrypt_secrets",
    "request_provisioning",
    "resume_tenant",
    "server_admin_dsn",
    "set_plan",
    "slug_from",
    "suspend_tenant",
    "tenant_by_id",
    "tenant_changed",
    "tenant_database",
    "workspace_summary",
]

SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
RESERVED_SLUGS = frozenset(
    {
        "admin", "api", "app", "www", "static", "widget", "webhooks", "oauth", "metrics", "login", "logout",
        "signup", "account", "accounts", "auth", "t", "docs", "help", "support", "status", "mail", "email",
        "dashboard", "settings", "billing", "salla", "clerk", "wosool", "root", "system", "public", "test",
        "postgres", "template", "template0", "template1",
    }
)  # fmt: skip
PROVISION_JOB = "provision_tenant"


class InvalidSlug(ValueError):
    """The slug breaks a rule; the message says which."""


class TenantNotFound(LookupError):
    pass


class WrongState(Exception):
    """The tenant's status does not allow this change."""


def check_slug(slug: str) -> None:
    if not 3 <= len(slug) <= 40:
        raise InvalidSlug("must be 3 to 40 characters long")
    if not SLUG_PATTERN.match(slug):
        raise InvalidSlug("may contain only lowercase letters, digits and single hyphens, and must start with a letter")
    if slug in RESERVED_SLUGS:
        raise InvalidSlug(f"'{slug}' is reserved")


async def new_tenant(*, name: str, slug: str, settings: Settings) -> TenantRecord:
    """Register a tenant (status ``provisioning``) on the least-loaded server. Raises `SlugTaken`.

    Runs inside the caller's registry transaction; provisioning happens later, in a job.
    """
    check_slug(slug)
    tenant_id = uuid.uuid4()
    server = await repository.least_loaded_server()
    password = SecretBox(settings.encryption_keys).encrypt(secrets.token_urlsafe(32))
    return await repository.insert_tenant(
        tenant_id=tenant_id,
        slug=slug,
        name=name,
        database_name=f"wt_{slug.replace('-', '_')}_{tenant_id.hex[:8]}",
        server_id=server.id,
        role_password_encrypted=password,
    )


def slug_from(text: str, *, fallback: str) -> str:
    """A valid slug made from a store's username or name: lower case, other characters become hyphens;
    ``fallback`` (itself a valid slug) when little is left (an Arabic-only name, say)."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    slug = re.sub(r"^[^a-z]+", "", slug)[:34].rstrip("-")
    if len(slug) < 3 or slug in RESERVED_SLUGS:
        return fallback
    return slug


async def new_tenant_with_free_slug(*, name: str, slug: str, settings: Settings) -> TenantRecord:
    """`new_tenant` with ``slug``, or ``slug-2``, ``slug-3``... when it is taken."""
    for attempt in range(1, 50):
        candidate = slug if attempt == 1 else f"{slug}-{attempt}"
        try:
            return await new_tenant(name=name, slug=candidate, settings=settings)
        except repository.SlugTaken:
            continue
    return await new_tenant(name=name, slug=f"{slug}-{secrets.token_hex(3)}", settings=settings)


async def set_plan(redis: Redis, tenant_id: uuid.UUID, plan: str) -> None:
    """The tenant's plan, as its store's subscription says."""
    updated = await repository.update_tenant(tenant_id, plan=plan[:50])
    if updated is not None:
        await tenant_changed(redis, updated.slug)


async def request_provisioning(queue: Queue, tenant_id: uuid.UUID) -> None:
    """Enqueue the provisioning job; the key makes a second request a no-op while one is pending."""
    await queue.enqueue(
        PROVISION_JOB,
        tenant_id=str(tenant_id),
        key=f"provision:{tenant_id}",
        timeout=120,
        retries=6,
        retry_delay=0.5,
        retry_backoff=8.0,
    )


async def find_tenant(redis: Redis, slug: str) -> TenantRecord | None:
    """The tenant with this slug, from the Redis cache when possible."""
    cached = await cache.cached_tenant(redis, slug)
    if isinstance(cached, TenantRecord):
        return cached
    if cached == "unknown":
        return None
    seen = await cache.generation(redis, slug)
    tenant = await repository.tenant_by_slug(slug)
    if tenant is None:
        await cache.remember_unknown(redis, slug, seen)
    else:
        await cache.remember_tenant(redis, tenant, seen)
    return tenant


async def tenant_by_id(tenant_id: uuid.UUID) -> TenantRecord | None:
    return await repository.tenant_by_id(tenant_id)


async def tenant_changed(redis: Redis, slug: str) -> None:
    await cache.forget_tenant(redis, slug)


def server_admin_dsn(server: ServerRecord, settings: Settings) -> str:
    """How administrators reach ``server``: DATABASE_URL for the registry's own, else the stored DSN."""
    if server.dsn_encrypted is None:
        return settings.database_url
    return SecretBox(settings.encryption_keys).decrypt(server.dsn_encrypted)


_server_dsns: dict[int, str] = {}
_TENANT_DATABASES_LIMIT = 10_000
_tenant_databases: dict[tuple[Any, ...], TenantDatabase] = {}


async def tenant_database(tenant: TenantRecord, settings: Settings) -> TenantDatabase:
    """How the tenant's pool connects: as the tenant's own role, to the tenant's own database.

    Remembered per process for the tenant's current credentials (every dashboard request asks; decrypting the
    password and building the URL each time cost more than the rest of the lookup). The clear password is in
    the process's memory anyway, in its pool's DSN."""
    key = (tenant.id, tenant.server_id, tenant.database_name, tenant.role_name, tenant.role_password_encrypted)
    known = _tenant_databases.get(key)
    if known is not None:
        return known
    admin_dsn = _server_dsns.get(tenant.server_id)
    if admin_dsn is None:
        admin_dsn = server_admin_dsn(await repository.get_server(tenant.server_id), settings)
        _server_dsns[tenant.server_id] = admin_dsn
    password = SecretBox(settings.encryption_keys).decrypt(tenant.role_password_encrypted)
    dsn = with_credentials(with_database(admin_dsn, tenant.database_name), tenant.role_name, password)
    database = TenantDatabase(tenant_id=str(tenant.id), dsn=dsn)
    if len(_tenant_databases) >= _TENANT_DATABASES_LIMIT:
        _tenant_databases.clear()
    _tenant_databases[key] = database
    return database


async def workspace_summary(tenant: TenantRecord, settings: Settings) -> dict[str, Any]:
    """The tenant's own record of itself, read through its pool (as its own role)."""
    from app.tenancy import runtime

    async with runtime.pools().connection(await tenant_database(tenant, settings)) as connection:
        row = await connection.fetchrow(
            "SELECT name, slug, default_locale, default_currency, timezone, created_at, current_user AS role "
            "FROM workspace"
        )
    return dict(row) if row else {}


async def reencrypt_secrets(settings: Settings) -> int:
    """Encrypt every tenancy secret again with the newest ENCRYPTION_KEY (after a key is added in front), so
    the old key can be retired. Returns how many secrets were rewritten."""
    box = SecretBox(settings.encryption_keys)
    count = 0
    for tenant in await repository.list_tenants():
        if tenant.role_password_encrypted:
            await repository.update_tenant(
                tenant.id, role_password_encrypted=box.rotate(tenant.role_password_encrypted)
            )
            count += 1
    for server in await repository.list_servers():
        if server.dsn_encrypted:
            await repository.update_server(server.id, dsn_encrypted=box.rotate(server.dsn_encrypted))
            count += 1
    return count


async def _require(slug: str) -> TenantRecord:
    tenant = await repository.tenant_by_slug(slug)
    if tenant is None:
        raise TenantNotFound(f"no tenant '{slug}'")
    return tenant


async def suspend_tenant(redis: Redis, slug: str, *, actor: str, reason: str = "") -> TenantRecord:
    """Block sign-in and APIs; keep every byte of data."""
    tenant = await _require(slug)
    if tenant.status != "active":
        raise WrongState(f"only an active tenant can be suspended; '{slug}' is {tenant.status}")
    updated = await repository.update_tenant(tenant.id, status="suspended")
    await tenant_changed(redis, slug)
    await audit.record(actor, "tenant.suspended", tenant_slug=slug, reason=reason)
    assert updated is not None
    return updated


async def resume_tenant(redis: Redis, slug: str, *, actor: str) -> TenantRecord:
    tenant = await _require(slug)
    if tenant.status not in ("suspended", "deleting"):
        raise WrongState(f"only a suspended tenant (or one awaiting deletion) can resume; '{slug}' is {tenant.status}")
    updated = await repository.update_tenant(tenant.id, status="active", delete_after=None)
    await tenant_changed(redis, slug)
    await audit.record(actor, "tenant.resumed", tenant_slug=slug)
    assert updated is not None
    return updated


async def delete_tenant(
    redis: Redis, slug: str, *, actor: str, settings: Settings, confirm_slug: str, after_days: int = 0
) -> TenantRecord:
    """Delete a tenant: at once (drop its database and role) or after ``after_days`` (status ``deleting``).

    ``confirm_slug`` must repeat the slug: deleting is the one change that cannot be undone.
    """
    if confirm_slug != slug:
        raise WrongState(f"to delete '{slug}', confirm by typing its slug exactly")
    tenant = await _require(slug)
    if tenant.status == "deleted":
        raise WrongState(f"'{slug}' is already deleted")
    if after_days > 0:
        updated = await repository.update_tenant(
            tenant.id, status="deleting", delete_after=datetime.now(UTC) + timedelta(days=after_days)
        )
        await tenant_changed(redis, slug)
        await audit.record(actor, "tenant.deletion_scheduled", tenant_slug=slug, after_days=after_days)
        assert updated is not None
        return updated
    return await _drop(redis, tenant, actor=actor, settings=settings)


async def purge_due_tenants(redis: Redis, settings: Settings) -> list[str]:
    """Drop the tenants whose retention period has ended; returns their slugs."""
    now = datetime.now(UTC)
    due = [t for t in await repository.list_tenants(statuses=("deleting",)) if t.delete_after and t.delete_after <= now]
    for tenant in due:
        await _drop(redis, tenant, actor="system", settings=settings)
    return [tenant.slug for tenant in due]


async def _drop(redis: Redis, tenant: TenantRecord, *, actor: str, settings: Settings) -> TenantRecord:
    from app.tenancy import runtime  # the process's pools, if any, must let go of the database first

    # Due now: a drop cut short (a worker stopped, the server refusing) is finished by the every-minute purge.
    await repository.update_tenant(tenant.id, status="deleting", delete_after=datetime.now(UTC))
    await tenant_changed(redis, tenant.slug)
    await runtime.forget_pool(str(tenant.id))
    server = await repository.get_server(tenant.server_id)
    admin = await asyncpg.connect(server_admin_dsn(server, settings))
    try:
        await databases.drop_database(admin, tenant.database_name)
        await databases.drop_role(admin, tenant.role_name)
    finally:
        await admin.close()
    updated = await repository.update_tenant(tenant.id, status="deleted", role_password_encrypted="")
    await tenant_changed(redis, tenant.slug)
    await audit.record(actor, "tenant.deleted", tenant_slug=tenant.slug)
    assert updated is not None
    return updated
