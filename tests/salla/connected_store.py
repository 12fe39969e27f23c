"""For the sync and store-webhook tests: a sandbox store connected to a ready CRM, set up through the real services
(a provisioned tenant, the store's row, its tokens saved encrypted) without going through the install webhooks."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis
from saq import Queue

from app.crm.services import crm_connection
from app.salla import store_repository
from app.salla.accounts import grant_from_payload
from app.salla.sandbox import Sandbox
from app.salla.store_repository import StoreRecord
from app.salla.tokens import save_grant
from app.settings import Settings
from app.tenancy import runtime
from app.tenancy.repository import TenantRecord
from tests.people import create_organization

__all__ = ["Connected", "connect_store", "counts"]


@dataclass(frozen=True)
class Connected:
    store: StoreRecord
    tenant: TenantRecord


async def connect_store(
    settings: Settings, redis: Redis, queue: Queue, sandbox: Sandbox, merchant_id: int, *, slug: str
) -> Connected:
    """The sandbox store ``merchant_id`` installed, authorised and attached to a new, provisioned tenant."""
    tenant = await create_organization(settings, redis, queue, slug=slug, owner=f"owner@{slug}.sa")
    await runtime.open_pools(settings)
    store = await store_repository.ensure_store(merchant_id)
    plan = sandbox.store(merchant_id).plan
    await store_repository.update_store(store.id, tenant_id=tenant.id, plan=plan, username=slug)
    store = await save_grant(store.id, grant_from_payload(sandbox.issue_tokens(merchant_id)), settings)
    return Connected(store=store, tenant=tenant)


async def counts(tenant: TenantRecord, settings: Settings) -> dict[str, int]:
    """Live records from Salla per table."""
    async with crm_connection(tenant, settings) as connection:
        return {
            table: await connection.fetchval(
                f"SELECT count(*) FROM {table} WHERE salla_id IS NOT NULL AND deleted_at IS NULL"
            )
            for table in ("people", "products", "orders")
        }
