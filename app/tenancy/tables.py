"""Registry tables owned by the tenancy domain."""

from __future__ import annotations

from piccolo.columns import UUID, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

__all__ = ["DatabaseServer", "Tenant"]


class DatabaseServer(Table, tablename="database_servers"):
    """A PostgreSQL server that holds tenant databases; each has its own template database."""

    name = Varchar(length=100, unique=True)
    dsn_encrypted = Text(null=True, default=None, secret=True)
    """Admin DSN, encrypted. NULL means the registry's own server (DATABASE_URL)."""
    template_database = Varchar(length=63)
    template_version = Integer(default=0)
    capacity = Integer(default=5000)
    """How many tenant databases it should hold; placement prefers the least loaded."""
    accepting_tenants = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())


class Tenant(Table, tablename="tenants"):
    """One merchant's CRM: its own database, owned by its own login role of the same name."""

    id = UUID(primary_key=True)
    slug = Varchar(length=40, unique=True, index=True)
    name = Varchar(length=200)
    status = Varchar(length=20, index=True, default="provisioning")
    """provisioning, active, suspended, deleting, deleted or failed."""
    database_name = Varchar(length=63, unique=True)
    database_server = ForeignKey(references=DatabaseServer)
    role_password_encrypted = Text(default="", secret=True)
    schema_version = Integer(default=0)
    plan = Varchar(length=50, default="free")
    last_error = Text(default="")
    provision_attempts = Integer(default=0)
    delete_after = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    activated_at = Timestamptz(null=True, default=None)
