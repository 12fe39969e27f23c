"""Trial and subscription events are recorded on the store and its tenant (plan, status, store type); Salla may
deliver them out of order, and an older one never undoes a newer one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from app.salla import store_repository
from app.salla.sandbox import Sandbox
from app.settings import Settings
from app.tenancy import services as tenancy
from tests.salla.support import MERCHANT, deliver, installed_tenant, registry_rows, running_worker, until

SUBSCRIPTION = {
    "id": 9001,
    "subscription_id": 77,
    "item_type": "app",
    "item_slug": "wosool-growth",
    "plan_type": "recurring",
    "plan_name": "Growth",
    "plan_period": 1,
    "start_date": "2026-11-01",
    "end_date": "2026-12-01",
    "price": 99,
    "tax": 14.85,
    "total": 113.85,
    "features": [{"key": "contacts", "quantity": 10000}],
    "store_type": "live",
}


async def _applied(count: int) -> bool:
    rows = await registry_rows("SELECT status FROM salla_webhooks")
    return len(rows) >= count and all(row["status"] in ("done", "ignored") for row in rows)


async def test_it_records_the_subscription_on_the_store_and_the_tenant(
    sandbox: Sandbox, salla_settings: Settings, salla_app: httpx.AsyncClient
) -> None:
    now = datetime.now(UTC)
    async with running_worker(salla_settings):
        await deliver(salla_app, sandbox, "app.store.authorize", sandbox.issue_tokens(MERCHANT))
        tenant = await installed_tenant()
        trial = {**SUBSCRIPTION, "plan_name": "Trial", "store_type": "demo"}
        await deliver(salla_app, sandbox, "app.trial.started", trial, created_at=now - timedelta(days=3))
        await deliver(salla_app, sandbox, "app.subscription.started", SUBSCRIPTION, created_at=now)
        await until(lambda: _applied(3), "every event applied")

    store = await store_repository.store_by_merchant(MERCHANT)
    assert store is not None
    assert (store.subscription_status, store.subscription_plan, store.store_type) == ("active", "Growth", "live")
    fresh = await tenancy.tenant_by_id(tenant.id)
    assert fresh is not None
    assert fresh.plan == "Growth"


async def test_an_older_event_arriving_late_changes_nothing(
    sandbox: Sandbox, salla_settings: Settings, salla_app: httpx.AsyncClient
) -> None:
    now = datetime.now(UTC)
    async with running_worker(salla_settings):
        await deliver(salla_app, sandbox, "app.subscription.canceled", SUBSCRIPTION, created_at=now)
        await until(lambda: _applied(1), "the cancellation applied")
        await deliver(salla_app, sandbox, "app.subscription.renewed", SUBSCRIPTION, created_at=now - timedelta(days=1))
        await until(lambda: _applied(2), "the late renewal applied")

    store = await store_repository.store_by_merchant(MERCHANT)
    assert store is not None
    assert store.subscription_status == "canceled"
