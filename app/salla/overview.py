"""What the merchant's "Salla" page shows: the store's connection, its sync per resource and its recent webhooks."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from saq import Queue

from app.salla import inbox, store_repository, sync
from app.salla.store_repository import StoreRecord

__all__ = ["NotConnected", "SallaOverview", "overview_of", "sync_now"]


class NotConnected(Exception):
    """The store cannot be synced now; the message says why."""


@dataclass(frozen=True)
class SallaOverview:
    store: StoreRecord | None
    progress: list[Any]
    """One `app.salla.sync.ResourceProgress` per resource."""
    webhooks: list[Any]
    """The store's most recent deliveries (`app.salla.inbox`)."""

    @property
    def syncing(self) -> bool:
        return any(item.status in ("queued", "running") for item in self.progress)

    @property
    def scopes(self) -> list[str]:
        return self.store.scopes.split() if self.store and self.store.scopes else []


async def overview_of(tenant_id: uuid.UUID, *, with_webhooks: bool = True) -> SallaOverview:
    store = await store_repository.store_by_tenant(tenant_id)
    if store is None:
        return SallaOverview(store=None, progress=[], webhooks=[])
    progress = await sync.sync_progress(store.id)
    webhooks = await inbox.recent_webhooks(store.merchant_id, limit=20) if with_webhooks else []
    return SallaOverview(store=store, progress=progress, webhooks=webhooks)


async def sync_now(tenant_id: uuid.UUID, queue: Queue) -> StoreRecord:
    """A full sync at the merchant's request (pages already stored are updated in place, nothing doubles)."""
    store = await store_repository.store_by_tenant(tenant_id)
    if store is None:
        raise NotConnected("No Salla store is connected to this CRM.")
    if store.status != "connected":
        raise NotConnected("The Salla store must be connected again before it can sync.")
    await sync.start_full_sync(store, queue)
    return store
