"""The rules of a store's life with Wosool: install, authorize (tokens), uninstall, reinstall, trial and subscription.

Salla sends ``app.installed`` and ``app.store.authorize`` in either order (and again on every app update), may
send any of them twice, and may deliver an old one late. Every function here is idempotent and runs under a
per-store lock, and an event older than the store's uninstall is ignored, so a late ``app.store.authorize`` never
brings a removed app back to life.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from redis.asyncio import Redis
from saq import Queue

from app.accounts import services as accounts
from app.admin import audit
from app.salla import accounts as salla_accounts
from app.salla import store_repository, sync, tokens
from app.salla.accounts import StoreOwner, TokenGrant
from app.salla.store_repository import StoreRecord
from app.settings import Settings
from app.tenancy import provisioning
from app.tenancy import services as tenancy
from app.tenancy.repository import TenantRecord

__all__ = [
    "Connected",
    "StoreContext",
    "connect_store",
    "record_installed",
    "record_subscription",
    "store_of_tenant",
    "uninstall_store",
]

log = structlog.get_logger("wosool.salla.install")

ACTOR = "salla"
LOCK_SECONDS = 120
SUBSCRIPTION_STATUS = {
    "app.trial.started": "trial",
    "app.trial.expired": "trial_expired",
    "app.trial.canceled": "trial_canceled",
    "app.subscription.started": "active",
    "app.subscription.renewed": "active",
    "app.subscription.expired": "expired",
    "app.subscription.canceled": "canceled",
}
"""What each trial/subscription event says the app's subscription on the store now is."""


@dataclass(frozen=True)
class StoreContext:
    settings: Settings
    redis: Redis
    queue: Queue


@dataclass(frozen=True)
class Connected:
    store: StoreRecord
    tenant: TenantRecord
    owner_email: str


@asynccontextmanager
async def _store_lock(redis: Redis, merchant_id: int) -> AsyncIterator[None]:
    """One lifecycle change of a store at a time, across every worker."""
    async with redis.lock(f"wosool:salla:lifecycle:{merchant_id}", timeout=LOCK_SECONDS, blocking_timeout=60):
        yield


def _is_stale(store: StoreRecord, happened_at: datetime | None) -> bool:
    """An event from before the store's last uninstall belongs to an earlier installation."""
    return bool(store.uninstalled_at and happened_at and happened_at < store.uninstalled_at)


async def record_installed(merchant_id: int, happened_at: datetime | None, context: StoreContext) -> StoreRecord:
    """``app.installed``: the store exists for us from now on; its tokens come with ``app.store.authorize``."""
    async with _store_lock(context.redis, merchant_id):
        store = await store_repository.ensure_store(merchant_id)
        if _is_stale(store, happened_at):
            log.info("stale app.installed ignored", merchant_id=merchant_id)
            return store
        updated = await store_repository.update_store(store.id, installed_at=happened_at or datetime.now(UTC))
        assert updated is not None
        return updated


async def connect_store(
    merchant_id: int | None, grant: TokenGrant, context: StoreContext, *, happened_at: datetime | None = None
) -> Connected | None:
    """Tokens for a store (``app.store.authorize`` or the custom-mode OAuth callback): save them, learn who the
    store and its owner are, give the store a ready CRM (new, or its old one restored after a reinstall) and start
    the sync. ``merchant_id`` None means "whichever store these tokens belong to" (the OAuth callback).
    Returns None when the event is stale."""
    owner = await salla_accounts.user_info(context.settings, grant.access_token)
    merchant_id = merchant_id or owner.merchant_id
    async with _store_lock(context.redis, merchant_id):
        store = await store_repository.ensure_store(merchant_id)
        if _is_stale(store, happened_at):
            log.info("stale app.store.authorize ignored", merchant_id=merchant_id)
            return None
        store = await tokens.save_grant(store.id, grant, context.settings)
        store = await _remember_owner(store, owner)
        tenant = await _ready_tenant(store, owner, context)
        await accounts.ensure_owner(tenant, email=owner.email, name=owner.name, actor=ACTOR)
        store = await _attach(store, tenant)
    await sync.start_full_sync(store, context.queue)
    return Connected(store=store, tenant=tenant, owner_email=owner.email)


async def _remember_owner(store: StoreRecord, owner: StoreOwner) -> StoreRecord:
    updated = await store_repository.update_store(
        store.id,
        username=owner.username[:100],
        name=owner.store_name[:200],
        owner_email=owner.email[:254],
        domain=owner.domain[:255],
        plan=owner.plan[:50],
        status="connected",
        uninstalled_at=None,
        last_error="",
    )
    assert updated is not None
    return updated


async def _ready_tenant(store: StoreRecord, owner: StoreOwner, context: StoreContext) -> TenantRecord:
    """The store's tenant, active: the one it already has (restored if it awaits deletion after an uninstall),
    or a new one provisioned right here (tens of milliseconds: a clone of the template database)."""
    tenant = await tenancy.tenant_by_id(store.tenant_id) if store.tenant_id else None
    if tenant is not None and tenant.status in ("suspended", "deleting"):
        tenant = await tenancy.resume_tenant(context.redis, tenant.slug, actor=ACTOR)
        await audit.record(ACTOR, "salla.reinstalled", tenant_slug=tenant.slug, merchant_id=store.merchant_id)
    if tenant is None or tenant.status == "deleted":
        slug = tenancy.slug_from(owner.username or owner.store_name, fallback=f"store-{store.merchant_id}")
        tenant = await tenancy.new_tenant_with_free_slug(
            name=owner.store_name or owner.username or slug, slug=slug, settings=context.settings
        )
        await audit.record(ACTOR, "salla.installed", tenant_slug=tenant.slug, merchant_id=store.merchant_id)
    if tenant.status != "active":
        tenant = await _provision(tenant, context)
    return tenant


async def _provision(tenant: TenantRecord, context: StoreContext) -> TenantRecord:
    try:
        return await provisioning.provision(tenant.id, context.settings, context.redis)
    except provisioning.TRANSIENT_ERRORS:
        # The provisioning job retries it; the sync waits for the tenant to become active.
        await tenancy.request_provisioning(context.queue, tenant.id)
        log.warning("provisioning deferred to its job", tenant_slug=tenant.slug)
        return tenant


async def _attach(store: StoreRecord, tenant: TenantRecord) -> StoreRecord:
    if store.tenant_id == tenant.id:
        return store
    updated = await store_repository.update_store(store.id, tenant_id=tenant.id)
    assert updated is not None
    return updated


async def uninstall_store(merchant_id: int, happened_at: datetime | None, context: StoreContext) -> None:
    """``app.uninstalled``: stop the sync, delete the tokens, and close the CRM: it awaits deletion for
    SALLA_RETENTION_DAYS (a reinstall within that time restores it), or is deleted now when that is 0."""
    async with _store_lock(context.redis, merchant_id):
        store = await store_repository.store_by_merchant(merchant_id)
        if store is None:
            return
        if store.installed_at and happened_at and happened_at < store.installed_at:
            log.info("stale app.uninstalled ignored", merchant_id=merchant_id)
            return
        await sync.cancel_syncs(store.id)
        await tokens.forget_tokens(store.id)
        await store_repository.update_store(
            store.id, status="uninstalled", uninstalled_at=happened_at or datetime.now(UTC), last_error=""
        )
        tenant = await tenancy.tenant_by_id(store.tenant_id) if store.tenant_id else None
        if tenant is not None and tenant.status not in ("deleting", "deleted"):
            await _schedule_deletion(tenant, context)
        slug = tenant.slug if tenant else ""
        await audit.record(ACTOR, "salla.uninstalled", tenant_slug=slug, merchant_id=merchant_id)


async def _schedule_deletion(tenant: TenantRecord, context: StoreContext) -> None:
    await tenancy.delete_tenant(
        context.redis,
        tenant.slug,
        actor=ACTOR,
        settings=context.settings,
        confirm_slug=tenant.slug,
        after_days=context.settings.salla.retention_days,
    )


async def record_subscription(
    merchant_id: int, event: str, data: dict[str, object], happened_at: datetime | None, context: StoreContext
) -> None:
    """Trial and subscription events: the app's plan and status on the store, and its store type. Salla may
    deliver them out of order: an event older than the newest one applied changes nothing."""
    async with _store_lock(context.redis, merchant_id):
        store = await store_repository.ensure_store(merchant_id)
        if store.lifecycle_at and happened_at and happened_at < store.lifecycle_at:
            log.info("older subscription event ignored", merchant_id=merchant_id, salla_event=event)
            return
        plan = str(data.get("plan_name") or data.get("item_slug") or store.subscription_plan)
        updated = await store_repository.update_store(
            store.id,
            subscription_status=SUBSCRIPTION_STATUS.get(event, store.subscription_status),
            subscription_plan=plan[:100],
            store_type=str(data.get("store_type") or store.store_type)[:30],
            lifecycle_at=happened_at or datetime.now(UTC),
        )
        assert updated is not None
        if updated.tenant_id is not None and plan:
            await tenancy.set_plan(context.redis, updated.tenant_id, plan)


async def store_of_tenant(tenant_id: uuid.UUID) -> StoreRecord | None:
    return await store_repository.store_by_tenant(tenant_id)
