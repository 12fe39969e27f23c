"""Data access for tenants and database servers (registry tables, through Piccolo)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from app.tenancy.tables import DatabaseServer, Tenant

__all__ = [
    "NoServerAccepting",
    "ServerRecord",
    "SlugTaken",
    "TenantRecord",
    "ensure_default_server",
    "get_server",
    "insert_tenant",
    "least_loaded_server",
    "list_servers",
    "list_tenants",
    "tenant_by_id",
    "tenant_by_slug",
    "update_server",
    "update_tenant",
]


class NoServerAccepting(LookupError):
    """Every database server is full or closed to new tenants."""


class SlugTaken(Exception):
    """Another tenant already has this slug."""


@dataclass(frozen=True)
class TenantRecord:
    id: uuid.UUID
    slug: str
    name: str
    status: str
    database_name: str
    server_id: int
    role_password_encrypted: str
    schema_version: int
    plan: str
    last_error: str
    provision_attempts: int
    delete_after: datetime | None
    created_at: datetime
    activated_at: datetime | None

    @property
    def role_name(self) -> str:
        """A tenant's database is owned by a login role of the same name."""
        return self.database_name

    def to_cache(self) -> dict[str, Any]:
        return {
            **{k: getattr(self, k) for k in self.__dataclass_fields__},
            "id": str(self.id),
            "delete_after": self.delete_after.isoformat() if self.delete_after else None,
            "created_at": self.created_at.isoformat(),
            "activated_at": self.activated_at.isoformat() if self.activated_at else None,
        }

    @classmethod
    def from_cache(cls, data: dict[str, Any]) -> TenantRecord:
        return cls(
            **{
                **data,
                "id": uuid.UUID(data["id"]),
                "delete_after": _parse_time(data["delete_after"]),
                "created_at": datetime.fromisoformat(data["created_at"]),
                "activated_at": _parse_time(data["activated_at"]),
            }
        )


@dataclass(frozen=True)
class ServerRecord:
    id: int
    name: str
    dsn_encrypted: str | None
    template_database: str
    template_version: int
    capacity: int
    accepting_tenants: bool


def _parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _tenant(row: dict[str, Any]) -> TenantRecord:
    return TenantRecord(
        id=row["id"],
        slug=row["slug"],
        name=row["name"],
        status=row["status"],
        database_name=row["database_name"],
        server_id=row["database_server"],
        role_password_encrypted=row["role_password_encrypted"],
        schema_version=row["schema_version"],
        plan=row["plan"],
        last_error=row["last_error"],
        provision_attempts=row["provision_attempts"],
        delete_after=row["delete_after"],
        created_at=row["created_at"],
        activated_at=row["activated_at"],
    )


def _server(row: dict[str, Any]) -> ServerRecord:
    return ServerRecord(
        id=row["id"],
        name=row["name"],
        dsn_encrypted=row["dsn_encrypted"],
        template_database=row["template_database"],
        template_version=row["template_version"],
        capacity=row["capacity"],
        accepting_tenants=row["accepting_tenants"],
    )


async def insert_tenant(
    *,
    tenant_id: uuid.UUID,
    slug: str,
    name: str,
    database_name: str,
    server_id: int,
    role_password_encrypted: str,
) -> TenantRecord:
    try:
        rows = await Tenant.insert(
            Tenant(
                id=tenant_id,
                slug=slug,
                name=name,
                status="provisioning",
                database_name=database_name,
                database_server=server_id,
                role_password_encrypted=role_password_encrypted,
            )
        ).returning(*Tenant.all_columns())
    except asyncpg.UniqueViolationError as error:
        if "slug" in str(error.constraint_name):
            raise SlugTaken(slug) from error
        raise
    return _tenant(rows[0])


async def tenant_by_slug(slug: str) -> TenantRecord | None:
    row = await Tenant.select(*Tenant.all_columns()).where(Tenant.slug == slug).first()
    return None if row is None else _tenant(row)


async def tenant_by_id(tenant_id: uuid.UUID) -> TenantRecord | None:
    row = await Tenant.select(*Tenant.all_columns()).where(Tenant.id == tenant_id).first()
    return None if row is None else _tenant(row)


async def list_tenants(*, statuses: tuple[str, ...] = ()) -> list[TenantRecord]:
    query = Tenant.select(*Tenant.all_columns()).order_by(Tenant.created_at)
    if statuses:
        query = query.where(Tenant.status.is_in(list(statuses)))
    return [_tenant(row) for row in await query]


async def update_tenant(tenant_id: uuid.UUID, **values: Any) -> TenantRecord | None:
    """Set columns by name; returns the updated tenant (None if it does not exist)."""
    values["updated_at"] = datetime.now(UTC)
    columns = {getattr(Tenant, name): value for name, value in values.items()}
    rows = await Tenant.update(columns).where(Tenant.id == tenant_id).returning(*Tenant.all_columns())
    return _tenant(rows[0]) if rows else None


async def get_server(server_id: int) -> ServerRecord:
    row = await DatabaseServer.select().where(DatabaseServer._meta.primary_key == server_id).first()
    if row is None:
        raise LookupError(f"database server {server_id} does not exist")
    return _server(row)


async def list_servers() -> list[ServerRecord]:
    return [_server(row) for row in await DatabaseServer.select().order_by(DatabaseServer._meta.primary_key)]


async def ensure_default_server(template_database: str) -> ServerRecord:
    """The registry's own server, registered once (its admin DSN is DATABASE_URL, so none is stored)."""
    await DatabaseServer.raw(
        "INSERT INTO database_servers (name, dsn_encrypted, template_database, template_version, capacity, "
        "accepting_tenants, created_at) VALUES ('default', NULL, {}, 0, 5000, true, now()) "
        "ON CONFLICT (name) DO NOTHING",
        template_database,
    )
    row = await DatabaseServer.select().where(DatabaseServer.name == "default").first()
    assert row is not None
    return _server(row)


async def update_server(server_id: int, **values: Any) -> None:
    columns = {getattr(DatabaseServer, name): value for name, value in values.items()}
    await DatabaseServer.update(columns).where(DatabaseServer._meta.primary_key == server_id)


async def least_loaded_server() -> ServerRecord:
    """The accepting server with the most free capacity (tenants that still have a database count)."""
    rows = await DatabaseServer.raw(
        """
        SELECT s.*, count(t.id) AS tenants
        FROM database_servers s
        LEFT JOIN tenants t ON t.database_server = s.id AND t.status <> 'deleted'
        WHERE s.accepting_tenants
        GROUP BY s.id
        ORDER BY count(t.id)::float / greatest(s.capacity, 1), s.id
        LIMIT 1
        """
    )
    if not rows:
        raise NoServerAccepting("no database server accepts new tenants right now (run `wosool migrate` first?)")
    return _server(rows[0])
