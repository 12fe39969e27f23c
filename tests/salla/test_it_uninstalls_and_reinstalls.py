"""A merchant removes Wosool from their store: the sync stops, the tokens are deleted, the CRM closes and awaits
deletion for SALLA_RETENTION_DAYS. Reinstalling within that time brings the same CRM back, data and all."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import httpx

from app.factory import create_app
from app.salla import store_repository
from app.salla.sandbox import Sandbox
from app.settings import Settings
from app.tenancy import services as tenancy
from tests.conftest import app_client
from tests.salla.support import MERCHANT, deliver, installed_tenant, registry_rows, running_worker, until


async def _install(http: httpx.AsyncClient, sandbox: Sandbox, settings: Settings) -> None:
    await deliver(http, sandbox, "app.installed", {})
    await deliver(http, sandbox, "app.store.authorize", sandbox.issue_tokens(MERCHANT))


async def _store_status(expected: str) -> bool:
    store = await store_repository.store_by_merchant(MERCHANT)
    return store is not None and store.status == expected


async def test_it_closes_the_crm_and_forgets_the_tokens_on_uninstall(
    sandbox: Sandbox, salla_settings: Settings, salla_app: httpx.AsyncClient
) -> None:
    async with running_worker(salla_settings):
        await _install(salla_app, sandbox, salla_settings)
        tenant = await installed_tenant()
        await deliver(salla_app, sandbox, "app.uninstalled", {})
        await until(lambda: _store_status("uninstalled"), "the uninstall to be applied")

    store = await store_repository.store_by_merchant(MERCHANT)
    assert store is not None
    assert store.access_token_encrypted == ""
    assert store.refresh_token_encrypted == ""
    assert store.uninstalled_at is not None
    closed = await tenancy.tenant_by_id(tenant.id)
    assert closed is not None
    assert closed.status == "deleting"
    assert closed.delete_after is not None
    retention = closed.delete_after - datetime.now(UTC)
    assert timedelta(days=29) < retention <= timedelta(days=30)
    syncs = await registry_rows("SELECT status FROM salla_syncs WHERE store = $1", store.id)
    assert all(row["status"] != "running" for row in syncs)


async def test_a_reinstall_within_the_retention_brings_the_same_crm_back(
    sandbox: Sandbox, salla_settings: Settings, salla_app: httpx.AsyncClient
) -> None:
    async with running_worker(salla_settings):
        await _install(salla_app, sandbox, salla_settings)
        first = await installed_tenant()
        await deliver(salla_app, sandbox, "app.uninstalled", {})
        await until(lambda: _store_status("uninstalled"), "the uninstall to be applied")
        await _install(salla_app, sandbox, salla_settings)
        await until(lambda: _store_status("connected"), "the reinstall to be applied")
        again = await installed_tenant()

    assert again.id == first.id
    assert again.delete_after is None
    assert len(await registry_rows("SELECT id FROM tenants")) == 1


async def test_a_late_authorize_from_before_the_uninstall_changes_nothing(
    sandbox: Sandbox, salla_settings: Settings, salla_app: httpx.AsyncClient
) -> None:
    async with running_worker(salla_settings):
        await _install(salla_app, sandbox, salla_settings)
        await installed_tenant()
        await deliver(salla_app, sandbox, "app.uninstalled", {})
        await until(lambda: _store_status("uninstalled"), "the uninstall to be applied")
        stale = datetime.now(UTC) - timedelta(hours=1)
        await deliver(salla_app, sandbox, "app.store.authorize", sandbox.issue_tokens(MERCHANT), created_at=stale)
        await until(_everything_applied, "the late authorize to be applied")

    store = await store_repository.store_by_merchant(MERCHANT)
    assert store is not None
    assert store.status == "uninstalled"
    assert store.access_token_encrypted == ""


async def test_with_no_retention_the_crm_is_deleted_at_once(sandbox: Sandbox, salla_settings: Settings) -> None:
    settings = dataclasses.replace(salla_settings, salla=dataclasses.replace(salla_settings.salla, retention_days=0))
    async with app_client(create_app(settings)) as http, running_worker(settings):
        await _install(http, sandbox, settings)
        tenant = await installed_tenant()
        await deliver(http, sandbox, "app.uninstalled", {})

        async def tenant_deleted() -> bool:  # the store is marked uninstalled first, then the CRM is dropped
            found = await tenancy.tenant_by_id(tenant.id)
            return found is not None and found.status == "deleted"

        await until(tenant_deleted, "the CRM to be deleted")

    assert await _store_status("uninstalled")
    databases = await registry_rows("SELECT datname FROM pg_database WHERE datname = $1", tenant.database_name)
    assert databases == []


async def _everything_applied() -> bool:
    rows = await registry_rows("SELECT status FROM salla_webhooks")
    return all(row["status"] in ("done", "ignored", "failed") for row in rows)
