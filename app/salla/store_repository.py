"""Data access for ``salla_stores``: installed stores, their tokens (encrypted by the caller) and lifecycle."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app.salla.tables import SallaStore

__all__ = [
    "StoreRecord",
    "ensure_store",
    "list_stores",
    "store_by_id",
    "store_by_merchant",
    "store_by_tenant",
    "stores_with_tokens_expiring_before",
    "update_store",
]


@dataclass(frozen=True)
class StoreRecord:
    id: uuid.UUID
    merchant_id: int
    tenant_id: uuid.UUID | None
    username: str
    name: str
    owner_email: str
    domain: str
    status: str
    access_token_encrypted: str
    refresh_token_encrypted: str
    token_expires_at: datetime | None
    scopes: str
    plan: str
    subscription_status: str
    subscription_plan: str
    store_type: str
    lifecycle_at: datetime | None
    installed_at: datetime | None
    authorized_at: datetime | None
    token_refreshed_at: datetime | None
    uninstalled_at: datetime | None
    last_error: str
    created_at: datetime
    updated_at: datetime

    @property
    def has_tokens(self) -> bool:
        return bool(self.access_token_encrypted and self.refresh_token_encrypted)


def _store(row: dict[str, Any]) -> StoreRecord:
    values = dict(row)
    values["tenant_id"] = values.pop("tenant")
    return StoreRecord(**values)


async def store_by_merchant(merchant_id: int) -> StoreRecord | None:
    row = await SallaStore.select(*SallaStore.all_columns()).where(SallaStore.merchant_id == merchant_id).first()
    return None if row is None else _store(row)


async def store_by_id(store_id: uuid.UUID) -> StoreRecord | None:
    row = await SallaStore.select(*SallaStore.all_columns()).where(SallaStore.id == store_id).first()
    return None if row is None else _store(row)


async def store_by_tenant(tenant_id: uuid.UUID) -> StoreRecord | None:
    row = await SallaStore.select(*SallaStore.all_columns()).where(SallaStore.tenant == tenant_id).first()
    return None if row is None else _store(row)


async def list_stores(*, statuses: tuple[str, ...] = ()) -> list[StoreRecord]:
    query = SallaStore.select(*SallaStore.all_columns()).order_by(SallaStore.created_at)
    if statuses:
        query = query.where(SallaStore.status.is_in(list(statuses)))
    return [_store(row) for row in await query]


async def stores_with_tokens_expiring_before(moment: datetime) -> list[StoreRecord]:
    """Connected stores whose access token expires before ``moment`` (the refresh job's work list)."""
    rows = await (
        SallaStore.select(*SallaStore.all_columns())
        .where(SallaStore.status == "connected")
        .where(SallaStore.token_expires_at < moment)
        .order_by(SallaStore.token_expires_at)
    )
    return [_store(row) for row in rows]


async def ensure_store(merchant_id: int) -> StoreRecord:
    """The store's row, created empty (status ``installed``) when Salla tells us about it the first time.

    Safe under concurrency: ``app.installed`` and ``app.store.authorize`` may be applied at the same moment."""
    await SallaStore.raw(
        "INSERT INTO salla_stores (merchant_id) VALUES ({}) ON CONFLICT (merchant_id) DO NOTHING", merchant_id
    )
    store = await store_by_merchant(merchant_id)
    assert store is not None
    return store


async def update_store(store_id: uuid.UUID, **values: Any) -> StoreRecord | None:
    """Set columns by name (``tenant_id`` for the tenant); returns the updated store."""
    values["updated_at"] = datetime.now(UTC)
    if "tenant_id" in values:
        values["tenant"] = values.pop("tenant_id")
    columns = {getattr(SallaStore, name): value for name, value in values.items()}
    rows = await SallaStore.update(columns).where(SallaStore.id == store_id).returning(*SallaStore.all_columns())
    return _store(rows[0]) if rows else None
