"""The audit log: every change to a tenant or its people, with who made it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.admin.tables import AuditEntry

__all__ = ["AuditRecord", "entries_for", "record"]


@dataclass(frozen=True)
class AuditRecord:
    at: datetime
    actor: str
    action: str
    tenant_slug: str
    details: dict[str, Any]


async def record(actor: str, action: str, *, tenant_slug: str = "", **details: Any) -> None:
    """Append an entry. Never put secrets in ``details``."""
    await AuditEntry.insert(
        AuditEntry(actor=actor, action=action, tenant_slug=tenant_slug, details=json.dumps(details, default=str))
    )


async def entries_for(tenant_slug: str, *, limit: int = 100) -> list[AuditRecord]:
    rows = (
        await AuditEntry.select()
        .where(AuditEntry.tenant_slug == tenant_slug)
        .order_by(AuditEntry.id, ascending=False)
        .limit(limit)
    )
    return [
        AuditRecord(
            at=row["at"],
            actor=row["actor"],
            action=row["action"],
            tenant_slug=row["tenant_slug"],
            details=json.loads(row["details"]) if isinstance(row["details"], str) else row["details"],
        )
        for row in rows
    ]
