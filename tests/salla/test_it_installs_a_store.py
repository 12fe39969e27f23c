"""A merchant installs Wosool from the Salla app store (Easy mode): Salla's webhooks, in either order and any
number of times, leave exactly one store, one ready CRM owned by the installer, tokens encrypted, and a sync that
fills the CRM with the store's customers, products and orders."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from app.accounts import repository as people
from app.crm.services import crm_connection
from app.salla import store_repository
from app.salla.sandbox import Sandbox
from app.settings import Settings
from app.tenancy import services as tenancy
from tests.salla.support import MERCHANT, deliver, installed_tenant, registry_rows, running_worker, until


async def test_it_gives_an_installed_store_a_ready_crm_filled_from_salla(
    sandbox: Sandbox, salla_settings: Settings, salla_app: httpx.AsyncClient
) -> None:
    async with running_worker(salla_settings):
        assert (await deliver(salla_app, sandbox, "app.installed", {})).status_code == 200
        authorized = await deliver(salla_app, sandbox, "app.store.authorize", sandbox.issue_tokens(MERCHANT))
        assert authorized.status_code == 200
        tenant = await installed_tenant()
        await until(lambda: _synced(tenant, salla_settings, sandbox), "the first full sync")

    store = await store_repository.store_by_merchant(MERCHANT)
    assert store is not None
    assert store.status == "connected"
    assert store.tenant_id == tenant.id
    assert tenant.status == "active"
    assert tenant.slug == "noor-store"  # from the store's username
    assert store.owner_email == sandbox.store(MERCHANT).owner_email
    owner = await people.user_by_email(store.owner_email)
    assert owner is not None
    assert owner.password_hash == ""  # they sign in through Salla, or set a password later
    member = await people.membership(owner.id, tenant.id)
    assert member is not None
    assert member.role == "owner"


async def test_it_stores_the_tokens_encrypted(
    sandbox: Sandbox, salla_settings: Settings, salla_app: httpx.AsyncClient
) -> None:
    grant = sandbox.issue_tokens(MERCHANT)
    async with running_worker(salla_settings):
        await deliver(salla_app, sandbox, "app.store.authorize", grant)
        await installed_tenant()
    row = (await registry_rows("SELECT * FROM salla_stores WHERE merchant_id = $1", MERCHANT))[0]
    stored = " ".join(str(value) for value in row.values())
    assert grant["access_token"] not in stored
    assert grant["refresh_token"] not in stored
    assert row["access_token_encrypted"]
    assert row["refresh_token_encrypted"]


async def test_it_installs_once_whatever_the_order_and_the_repeats(
    sandbox: Sandbox, salla_settings: Settings, salla_app: httpx.AsyncClient
) -> None:
    authorize = sandbox.issue_tokens(MERCHANT)
    async with running_worker(salla_settings):
        # authorize before installed, each delivered three times, all at once
        deliveries = [deliver(salla_app, sandbox, "app.store.authorize", authorize) for _ in range(3)]
        deliveries += [deliver(salla_app, sandbox, "app.installed", {}) for _ in range(3)]
        answers = await asyncio.gather(*deliveries)
        assert {answer.status_code for answer in answers} == {200}
        await installed_tenant()
        await until(_all_applied, "every delivery applied")

    assert len(await registry_rows("SELECT id FROM salla_stores WHERE merchant_id = $1", MERCHANT)) == 1
    tenants = await registry_rows("SELECT slug, status FROM tenants")
    assert tenants == [{"slug": "noor-store", "status": "active"}]
    store = await store_repository.store_by_merchant(MERCHANT)
    assert store is not None
    assert store.installed_at is not None
    assert store.status == "connected"


async def test_it_makes_the_slug_unique_when_the_username_is_taken(
    sandbox: Sandbox, salla_settings: Settings, salla_app: httpx.AsyncClient
) -> None:
    other = await tenancy.new_tenant(name="Someone else", slug="noor-store", settings=salla_settings)
    async with running_worker(salla_settings):
        await deliver(salla_app, sandbox, "app.store.authorize", sandbox.issue_tokens(MERCHANT))
        tenant = await installed_tenant()
    assert tenant.id != other.id
    assert tenant.slug == "noor-store-2"


async def test_it_refuses_an_authorize_without_tokens_and_keeps_it_for_an_operator(
    sandbox: Sandbox, salla_settings: Settings, salla_app: httpx.AsyncClient
) -> None:
    async with running_worker(salla_settings):
        answer = await deliver(salla_app, sandbox, "app.store.authorize", {"scope": "offline_access"})
        assert answer.status_code == 200  # verified and stored: the problem is ours to see, not Salla's to retry
        await until(_authorize_failed, "the broken authorize to be marked failed", seconds=60)
    failed = await registry_rows("SELECT status, last_error FROM salla_webhooks WHERE event = 'app.store.authorize'")
    assert failed[0]["status"] == "failed"
    assert "token" in failed[0]["last_error"]
    assert await registry_rows("SELECT id FROM tenants") == []


async def _synced(tenant: Any, settings: Settings, sandbox: Sandbox) -> bool:
    fresh = await tenancy.tenant_by_id(tenant.id)
    assert fresh is not None
    store = sandbox.store(MERCHANT)
    async with crm_connection(fresh, settings) as connection:
        people_count = await connection.fetchval("SELECT count(*) FROM people WHERE salla_id IS NOT NULL")
        products = await connection.fetchval("SELECT count(*) FROM products WHERE salla_id IS NOT NULL")
        orders = await connection.fetchval("SELECT count(*) FROM orders WHERE salla_id IS NOT NULL")
    return (people_count, products, orders) == (
        len(store.customer_ids()),
        len(store.product_ids()),
        len(store.order_ids()),
    )


async def _all_applied() -> bool:
    rows = await registry_rows("SELECT status FROM salla_webhooks")
    return bool(rows) and all(row["status"] in ("done", "ignored") for row in rows)


async def _authorize_failed() -> bool:
    rows = await registry_rows("SELECT status FROM salla_webhooks WHERE event = 'app.store.authorize'")
    return bool(rows) and rows[0]["status"] == "failed"
