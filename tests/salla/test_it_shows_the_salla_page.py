"""The merchant's "Salla" page: the store's connection and permissions, the sync of each resource with its
progress, a "sync now" for owners and admins, and the store's recent webhooks; another tenant sees nothing."""

from __future__ import annotations

import json

import httpx
from redis.asyncio import Redis
from saq import Queue

from app.salla import store_repository
from app.salla.sandbox import Sandbox
from app.settings import Settings
from tests.people import add_member, create_organization, sign_in
from tests.salla.connected_store import connect_store
from tests.salla.support import MERCHANT, deliver, running_worker, until


async def _connected(salla_settings: Settings, redis: Redis, queue: Queue, sandbox: Sandbox) -> None:
    await connect_store(salla_settings, redis, queue, sandbox, MERCHANT, slug="noor")


def _csrf(http: httpx.AsyncClient) -> dict[str, str]:
    return {"x-csrftoken": http.cookies["csrftoken"]}


async def test_it_shows_the_connection_and_an_empty_sync(
    sandbox: Sandbox, salla_settings: Settings, redis: Redis, queue: Queue, salla_app: httpx.AsyncClient
) -> None:
    await _connected(salla_settings, redis, queue, sandbox)
    await sign_in(salla_app, "owner@noor.sa")

    page = await salla_app.get("/t/noor/salla")

    assert page.status_code == 200
    assert 'data-salla="connected"' in page.text
    assert str(MERCHANT) in page.text
    assert "offline_access" in page.text  # the scopes Salla granted
    assert "No sync has run yet." in page.text
    assert "Sync now" in page.text
    card = await salla_app.get("/t/noor/salla/card", headers={"HX-Request": "true"})
    assert 'data-salla="connected"' in card.text
    assert 'href="/t/noor/salla"' in page.text  # the sidebar's link


async def test_sync_now_starts_a_sync_and_the_page_follows_it_to_the_end(
    sandbox: Sandbox, salla_settings: Settings, redis: Redis, queue: Queue, salla_app: httpx.AsyncClient
) -> None:
    await _connected(salla_settings, redis, queue, sandbox)
    await sign_in(salla_app, "owner@noor.sa")

    started = await salla_app.post("/t/noor/salla/sync", headers={**_csrf(salla_app), "HX-Request": "true"})

    assert started.status_code == 200
    assert json.loads(started.headers["hx-trigger"])["wosool:toast"]["message"] == "The sync has started."
    assert 'data-syncing="true"' in started.text
    assert 'hx-trigger="every 2s"' in started.text  # the page polls while the sync runs
    async with running_worker(salla_settings):

        async def finished() -> bool:
            part = await salla_app.get("/t/noor/salla", headers={"HX-Request": "true", "HX-Target": "salla-sync"})
            return 'data-syncing="false"' in part.text

        await until(finished, "the sync to finish")
        done = await salla_app.get("/t/noor/salla")
    customers = len(sandbox.store(MERCHANT).customer_ids())
    assert f"{customers} / {customers}" in done.text
    assert 'data-status="done"' in done.text
    assert 'hx-trigger="every 2s"' not in done.text


async def test_a_member_sees_the_page_but_cannot_start_a_sync(
    sandbox: Sandbox, salla_settings: Settings, redis: Redis, queue: Queue, salla_app: httpx.AsyncClient
) -> None:
    connected = await connect_store(salla_settings, redis, queue, sandbox, MERCHANT, slug="noor")
    await add_member(connected.tenant, "bob@example.com")
    await sign_in(salla_app, "bob@example.com")

    page = await salla_app.get("/t/noor/salla")
    refused = await salla_app.post("/t/noor/salla/sync", headers=_csrf(salla_app))

    assert page.status_code == 200
    assert "Sync now" not in page.text
    assert refused.status_code == 403


async def test_another_tenants_owner_gets_a_404(
    sandbox: Sandbox, salla_settings: Settings, redis: Redis, queue: Queue, salla_app: httpx.AsyncClient
) -> None:
    await _connected(salla_settings, redis, queue, sandbox)
    await create_organization(salla_settings, redis, queue, slug="acme", owner="alice@example.com")
    await sign_in(salla_app, "alice@example.com")

    assert (await salla_app.get("/t/noor/salla")).status_code == 404
    assert (await salla_app.post("/t/noor/salla/sync", headers=_csrf(salla_app))).status_code == 404


async def test_a_store_that_lost_its_authorisation_asks_to_connect_again(
    sandbox: Sandbox, salla_settings: Settings, redis: Redis, queue: Queue, salla_app: httpx.AsyncClient
) -> None:
    connected = await connect_store(salla_settings, redis, queue, sandbox, MERCHANT, slug="noor")
    await store_repository.update_store(connected.store.id, status="needs_reauthorization")
    await sign_in(salla_app, "owner@noor.sa")

    page = await salla_app.get("/t/noor/salla")
    refused = await salla_app.post("/t/noor/salla/sync", headers={**_csrf(salla_app), "HX-Request": "true"})

    assert "Connect again" in page.text
    assert 'href="/oauth/salla/start"' in page.text
    assert refused.status_code == 409
    assert json.loads(refused.headers["hx-trigger"])["wosool:toast"]["kind"] == "error"


async def test_it_lists_the_stores_recent_webhooks_and_only_its_own(
    sandbox: Sandbox, salla_settings: Settings, redis: Redis, queue: Queue, salla_app: httpx.AsyncClient
) -> None:
    await _connected(salla_settings, redis, queue, sandbox)
    await deliver(salla_app, sandbox, "customer.updated", sandbox.event_data("customer.updated", MERCHANT))
    other = 98765
    sandbox.add_store(merchant_id=other, username="other", name="Other", owner_email="o@other.sa", customers=2)
    await deliver(salla_app, sandbox, "product.created", sandbox.event_data("product.created", other), merchant=other)
    await sign_in(salla_app, "owner@noor.sa")

    page = await salla_app.get("/t/noor/salla")

    assert "customer.updated" in page.text
    assert "product.created" not in page.text


async def test_a_crm_without_a_store_says_it_is_not_connected(
    salla_settings: Settings, redis: Redis, queue: Queue, salla_app: httpx.AsyncClient
) -> None:
    await create_organization(salla_settings, redis, queue, slug="acme", owner="alice@example.com")
    await sign_in(salla_app, "alice@example.com")

    page = await salla_app.get("/t/acme/salla")

    assert page.status_code == 200
    assert 'data-salla="not-connected"' in page.text
    assert "Sync now" not in page.text
