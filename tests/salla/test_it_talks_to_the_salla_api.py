"""Salla's accounts server and Admin API as Wosool reads them: grants in either expiry shape, the owner with or
without the data envelope, pages of at most 60, Salla's errors with their code, retries where they are safe."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from app.salla import accounts
from app.salla.accounts import InvalidGrant, grant_from_payload
from app.salla.client import SallaApiError, SallaClient
from app.salla.sandbox import Sandbox
from app.salla.store_repository import StoreRecord, ensure_store, update_store
from app.salla.tokens import save_grant
from app.settings import Settings
from tests.salla.support import MERCHANT

REDIRECT_URI = "http://127.0.0.1:8000/oauth/salla/callback"


async def connected_store(sandbox: Sandbox, settings: Settings) -> StoreRecord:
    store = await ensure_store(MERCHANT)
    await update_store(store.id, plan="pro")
    return await save_grant(store.id, grant_from_payload(sandbox.issue_tokens(MERCHANT)), settings)


def test_it_reads_an_absolute_expiry_or_a_duration() -> None:
    now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    tokens = {"access_token": "a" * 20, "refresh_token": "r" * 20, "scope": "offline_access"}

    absolute = grant_from_payload({**tokens, "expires": int(now.timestamp()) + 3600}, now=now)
    duration = grant_from_payload({**tokens, "expires_in": 1209600}, now=now)
    small_expires = grant_from_payload({**tokens, "expires": "1209600"}, now=now)

    assert absolute.expires_at == now + timedelta(hours=1)
    assert duration.expires_at == now + timedelta(days=14)
    assert small_expires.expires_at == now + timedelta(days=14)
    assert absolute.scope == "offline_access"


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"refresh_token": "r" * 20, "expires": 1}, "access_token"),
        ({"access_token": "a" * 20, "refresh_token": "", "expires": 1}, "refresh_token"),
        ({"access_token": "a" * 20, "refresh_token": "r" * 20, "expires": "soon"}, "expiry"),
    ],
)
def test_it_refuses_a_grant_it_cannot_use(payload: dict[str, Any], reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        grant_from_payload(payload)


@pytest.mark.parametrize("expiry_field", ["expires", "expires_in"])
async def test_it_exchanges_a_code_for_tokens(sandbox: Sandbox, salla_settings: Settings, expiry_field: str) -> None:
    sandbox.token_expiry_field = expiry_field
    code = sandbox.issue_code(MERCHANT, REDIRECT_URI)

    grant = await accounts.exchange_code(salla_settings, code, REDIRECT_URI)

    assert sandbox.merchant_of(grant.access_token) == MERCHANT
    assert timedelta(days=13) < grant.expires_at - datetime.now(UTC) <= timedelta(days=14)
    assert "offline_access" in grant.scope
    with pytest.raises(InvalidGrant):  # a code is single use
        await accounts.exchange_code(salla_settings, code, REDIRECT_URI)


@pytest.mark.parametrize("envelope", [True, False])
async def test_it_reads_who_installed_the_app(sandbox: Sandbox, salla_settings: Settings, envelope: bool) -> None:
    sandbox.user_info_envelope = envelope
    access_token = sandbox.issue_tokens(MERCHANT)["access_token"]

    owner = await accounts.user_info(salla_settings, access_token)

    assert owner.merchant_id == MERCHANT
    assert (owner.email, owner.username, owner.store_name, owner.plan) == (
        "owner@noor.sa",
        "noor-store",
        "متجر نور",
        "pro",
    )
    assert owner.domain == "https://salla.sa/noor-store"


async def test_it_refuses_a_revoked_token_at_user_info(sandbox: Sandbox, salla_settings: Settings) -> None:
    access_token = sandbox.issue_tokens(MERCHANT)["access_token"]
    sandbox.revoke_tokens(MERCHANT)

    with pytest.raises(accounts.AccountsError) as raised:
        await accounts.user_info(salla_settings, access_token)

    assert raised.value.status == 401
    assert access_token not in str(raised.value)


async def test_it_reads_pages_of_at_most_60(sandbox: Sandbox, salla_settings: Settings, redis: Redis) -> None:
    store = await connected_store(sandbox, salla_settings)
    sent: list[httpx.URL] = []

    async def remember(request: httpx.Request) -> None:
        sent.append(request.url)

    async with (
        httpx.AsyncClient(event_hooks={"request": [remember]}) as http,
        SallaClient(store, salla_settings, redis, http=http) as client,
    ):
        everything = await client.get("/orders", {"per_page": 100})
        second = await client.get("/customers", {"page": 2, "per_page": 15})
        last = await client.get("/customers", {"page": 3, "per_page": 15})

    assert sent[0].params["per_page"] == "60"
    assert (everything.current_page, everything.total_pages, everything.total, everything.per_page) == (1, 1, 60, 60)
    assert len(everything.data) == 60
    assert (second.current_page, second.total_pages, second.total, second.per_page) == (2, 3, 40, 15)
    assert not second.is_last
    assert last.is_last
    assert len(last.data) == 10
    customers = sandbox.store(MERCHANT).customer_ids()
    assert [customer["id"] for customer in second.data + last.data] == customers[15:]


async def test_it_reads_one_record_and_posts(sandbox: Sandbox, salla_settings: Settings, redis: Redis) -> None:
    store = await connected_store(sandbox, salla_settings)
    customer_id = sandbox.store(MERCHANT).customer_ids()[0]

    async with SallaClient(store, salla_settings, redis) as client:
        one = await client.get(f"/customers/{customer_id}")
        subscribed = await client.post(
            "/webhooks/subscribe",
            {"name": "wosool", "event": "order.created", "url": "https://wosool.example/webhooks/salla", "version": 2},
        )

    assert one.data["id"] == customer_id
    assert (one.current_page, one.total_pages, one.total) == (1, 1, 1)
    assert subscribed["event"] == "order.created"
    assert sandbox.store(MERCHANT).subscriptions[0]["url"] == "https://wosool.example/webhooks/salla"


async def test_it_reports_salla_s_error_without_the_token(
    sandbox: Sandbox, salla_settings: Settings, redis: Redis
) -> None:
    store = await connected_store(sandbox, salla_settings)
    token = sandbox.store(MERCHANT).last_grant["access_token"]  # type: ignore[index]

    async with SallaClient(store, salla_settings, redis) as client:
        with pytest.raises(SallaApiError) as missing:
            await client.get("/customers/999999999")
        with pytest.raises(SallaApiError) as invalid:
            await client.get("/products", {"status": "sold"})

    assert (missing.value.status, missing.value.code) == (404, "not_found")
    assert invalid.value.status == 422
    assert "status" in invalid.value.fields
    for error in (missing.value, invalid.value):
        assert token not in f"{error} {error!r} {error.fields}"


async def test_it_retries_server_errors_then_gives_up(sandbox: Sandbox, salla_settings: Settings, redis: Redis) -> None:
    store = await connected_store(sandbox, salla_settings)

    async with SallaClient(store, salla_settings, redis) as client:
        sandbox.storm(MERCHANT, count=2, status=503)
        page = await client.get("/products")
        sandbox.storm(MERCHANT, count=10, status=500)
        with pytest.raises(SallaApiError) as raised:
            await client.get("/products")

    assert page.total == 20
    assert raised.value.status == 500
    assert sandbox.stats(MERCHANT).by_status == {503: 2, 200: 1, 500: 4}


async def test_it_sends_the_token_to_salla_s_api_only(sandbox: Sandbox, salla_settings: Settings, redis: Redis) -> None:
    store = await connected_store(sandbox, salla_settings)

    async with SallaClient(store, salla_settings, redis) as client:
        for path in ("https://elsewhere.example/customers", "//elsewhere.example/customers", "customers"):
            with pytest.raises(ValueError, match="path"):
                await client.get(path)

    assert sandbox.stats(MERCHANT).requests == 0
