"""Registry tables owned by the accounts domain."""

from __future__ import annotations

from piccolo.columns import JSONB, UUID, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from app.tenancy.tables import Tenant

__all__ = ["ApiKey", "IdempotentResponse", "Membership", "User"]


class User(Table, tablename="users"):
    id = UUID(primary_key=True)
    email = Varchar(length=254, unique=True, index=True)
    """Stored lower-cased."""
    password_hash = Text(default="", secret=True)
    """argon2id; empty for accounts that sign in elsewhere (Clerk, Salla install) until a password is set."""
    name = Varchar(length=200, default="")
    locale = Varchar(length=5, default="")
    """``ar`` or ``en``; empty until chosen (the browser's language is used)."""
    is_superadmin = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())
    last_login_at = Timestamptz(null=True, default=None)


class Membership(Table, tablename="memberships"):
    """A user's role in a tenant: owner, admin or member. One per (user, tenant)."""

    id = UUID(primary_key=True)
    user = ForeignKey(references=User, on_delete=OnDelete.cascade, index=True)
    tenant = ForeignKey(references=Tenant, on_delete=OnDelete.cascade, index=True)
    role = Varchar(length=10)
    created_at = Timestamptz(default=TimestamptzNow())


class IdempotentResponse(Table, tablename="idempotent_responses"):
    """The first answer to a request sent with an Idempotency-Key, replayed to its retries."""

    scope = Varchar(length=100)
    key = Varchar(length=200)
    request_hash = Varchar(length=64)
    status_code = Integer()
    body = JSONB()
    created_at = Timestamptz(default=TimestamptzNow())


class ApiKey(Table, tablename="api_keys"):
    """An integrator's key to one tenant's REST API. Only a SHA-256 of the key is stored."""

    id = UUID(primary_key=True)
    tenant = ForeignKey(references=Tenant, on_delete=OnDelete.cascade, index=True)
    name = Varchar(length=100)
    prefix = Varchar(length=16, unique=True, index=True)
    key_hash = Varchar(length=64, secret=True)
    created_by = Varchar(length=254)
    created_at = Timestamptz(default=TimestamptzNow())
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
