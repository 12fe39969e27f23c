"""Registry tables owned by the admin domain."""

from __future__ import annotations

from piccolo.columns import JSONB, BigSerial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

__all__ = ["AuditEntry"]


class AuditEntry(Table, tablename="audit_log"):
    """Who did what to which tenant, for operators. Append-only."""

    id = BigSerial(primary_key=True)
    at = Timestamptz(default=TimestamptzNow(), index=True)
    actor = Varchar(length=254)
    """``user:<email>``, ``cli``, ``operator``, ``system``, ``salla``..."""
    action = Varchar(length=100)
    tenant_slug = Varchar(length=40, default="", index=True)
    details = JSONB(default="{}")
