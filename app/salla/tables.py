"""Registry tables owned by the Salla domain: installed stores, the webhook inbox and sync checkpoints.

The tables are created by a raw-SQL registry migration (composite unique keys and partial indexes that
Piccolo's auto migrations cannot express); these classes must match it column for column.
"""

from __future__ import annotations

from piccolo.columns import JSONB, UUID, BigInt, BigSerial, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from app.tenancy.tables import Tenant

__all__ = ["SallaStore", "SallaSync", "SallaWebhook"]


class SallaStore(Table, tablename="salla_stores"):
    """A Salla store that installed the app: its tenant, its tokens (encrypted) and its subscription."""

    id = UUID(primary_key=True)
    merchant_id = BigInt(unique=True)
    """Salla's store id (the webhook envelope's ``merchant``)."""
    tenant = ForeignKey(references=Tenant, null=True, on_delete=OnDelete.set_null, index=True)
    username = Varchar(length=100, default="")
    name = Varchar(length=200, default="")
    owner_email = Varchar(length=254, default="")
    domain = Varchar(length=255, default="")
    status = Varchar(length=30, default="installed")
    """``installed`` (no tokens yet), ``connected``, ``needs_reauthorization`` (invalid_grant) or ``uninstalled``."""
    access_token_encrypted = Text(default="", secret=True)
    refresh_token_encrypted = Text(default="", secret=True)
    token_expires_at = Timestamptz(null=True, default=None)
    scopes = Text(default="")
    plan = Varchar(length=50, default="")
    """Salla's plan for the store (``plus``, ``pro``, ``special``...): sets the API rate limit."""
    subscription_status = Varchar(length=30, default="")
    """The Wosool app's trial/subscription on this store: ``trial``, ``active``, ``expired``, ``canceled``."""
    subscription_plan = Varchar(length=100, default="")
    store_type = Varchar(length=30, default="")
    """``development``, ``demo`` or ``live``."""
    lifecycle_at = Timestamptz(null=True, default=None)
    """``created_at`` of the newest subscription/trial event applied (older ones arrive late and are ignored)."""
    installed_at = Timestamptz(null=True, default=None)
    authorized_at = Timestamptz(null=True, default=None)
    token_refreshed_at = Timestamptz(null=True, default=None)
    uninstalled_at = Timestamptz(null=True, default=None)
    last_error = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class SallaWebhook(Table, tablename="salla_webhooks"):
    """The inbox: every verified delivery, stored before it is answered 200, de-duplicated by its body's hash."""

    id = BigSerial(primary_key=True)
    body_hash = Varchar(length=64, unique=True)
    """SHA-256 hex of the raw body: Salla sends no delivery id and retries the same bytes."""
    event = Varchar(length=100, index=True)
    merchant_id = BigInt(null=True, index=True)
    body = JSONB()
    received_at = Timestamptz(default=TimestamptzNow())
    status = Varchar(length=20, default="pending")
    """``pending``, ``done``, ``ignored`` (an event we do not act on) or ``failed`` (an operator can replay it)."""
    attempts = Integer(default=0)
    processed_at = Timestamptz(null=True, default=None)
    last_error = Text(default="")


class SallaSync(Table, tablename="salla_syncs"):
    """One resource's sync of one store (customers, products, orders): the checkpoint a resumed sync starts from."""

    id = BigSerial(primary_key=True)
    store = ForeignKey(references=SallaStore, on_delete=OnDelete.cascade)
    resource = Varchar(length=20)
    status = Varchar(length=20, default="queued")
    """``queued``, ``running``, ``done`` or ``failed``."""
    next_page = Integer(default=1)
    """The first page not yet stored: a killed sync resumes here (upserts make a repeated page harmless)."""
    done = Integer(default=0)
    total = Integer(null=True, default=None)
    requests = Integer(default=0)
    throttled = Integer(default=0)
    """How many times the sync waited for the store's rate budget or got a 429."""
    started_at = Timestamptz(null=True, default=None)
    finished_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())
    last_error = Text(default="")
