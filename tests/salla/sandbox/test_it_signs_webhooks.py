from __future__ import annotations

import hashlib
import hmac
import json

import httpx

from app.salla.sandbox import Sandbox
from tests.salla.conftest import SANDBOX_MERCHANT, SANDBOX_WEBHOOK_SECRET, Receiver, make_sandbox


def _signature(body: bytes, secret: str = SANDBOX_WEBHOOK_SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_the_signature_is_the_hmac_of_the_raw_body(sandbox: Sandbox) -> None:
    body, headers = sandbox.webhook("customer.created", SANDBOX_MERCHANT)

    assert headers["X-Salla-Security-Strategy"] == "Signature"
    assert hmac.compare_digest(headers["X-Salla-Signature"], _signature(body))
    assert headers["X-Salla-Signature"] == headers["X-Salla-Signature"].lower()
    assert "Authorization" not in headers
    tampered = body.replace(b'"merchant":1234', b'"merchant":4321')
    assert tampered != body
    assert not hmac.compare_digest(headers["X-Salla-Signature"], _signature(tampered))


def test_the_envelope_names_event_merchant_time_and_data(sandbox: Sandbox) -> None:
    body, _ = sandbox.webhook("app.installed", SANDBOX_MERCHANT, {"hello": "مرحبا"}, created_at="2022-12-31 12:31:25")

    assert json.loads(body) == {
        "event": "app.installed",
        "merchant": SANDBOX_MERCHANT,
        "created_at": "2022-12-31 12:31:25",
        "data": {"hello": "مرحبا"},
    }


def test_the_token_strategy_sends_the_secret_as_it_is() -> None:
    sandbox = make_sandbox(webhook_strategy="token")

    body, headers = sandbox.webhook("app.uninstalled", SANDBOX_MERCHANT, {})

    assert headers["Authorization"] == SANDBOX_WEBHOOK_SECRET
    assert headers["X-Salla-Security-Strategy"] == "Token"
    assert "X-Salla-Signature" not in headers
    assert json.loads(body)["data"] == {}


def test_a_wrong_secret_makes_a_signature_that_does_not_verify(sandbox: Sandbox) -> None:
    body, headers = sandbox.webhook("customer.updated", SANDBOX_MERCHANT, secret="not-the-secret")

    assert not hmac.compare_digest(headers["X-Salla-Signature"], _signature(body))


def test_created_at_comes_in_each_of_salla_s_styles(sandbox: Sandbox) -> None:
    moment = 1_672_479_085  # 2022-12-31 12:31:25 in Riyadh

    styles = {}
    for style in ("salla", "js", "iso"):
        sandbox.created_at_style = style
        styles[style] = json.loads(sandbox.webhook("app.updated", SANDBOX_MERCHANT, {}, created_at=moment)[0])

    assert styles["salla"]["created_at"] == "2022-12-31 12:31:25"
    assert styles["js"]["created_at"] == "Sat Dec 31 2022 12:31:25 GMT+0300"
    assert styles["iso"]["created_at"] == "2022-12-31T09:31:25.000000Z"


async def test_authorize_carries_fresh_tokens_that_work(sandbox: Sandbox, sandbox_url: str) -> None:
    body, _ = sandbox.webhook("app.store.authorize", SANDBOX_MERCHANT)
    data = json.loads(body)["data"]

    async with httpx.AsyncClient() as http:
        answer = await http.get(
            f"{sandbox.api_url(sandbox_url)}/products", headers={"Authorization": f"Bearer {data['access_token']}"}
        )

    assert set(data) == {"access_token", "refresh_token", "expires", "scope", "token_type"}
    assert data["token_type"] == "bearer"
    assert data["expires"] > sandbox.now() + 13 * 86_400  # absolute unix seconds
    assert answer.status_code == 200


async def test_install_delivers_installed_then_authorize_into_an_asgi_app(sandbox: Sandbox) -> None:
    receiver = Receiver()

    deliveries = await sandbox.install(
        SANDBOX_MERCHANT, "http://wosool/webhooks/salla", transport=httpx.ASGITransport(app=receiver)
    )

    assert [delivery.webhook.event for delivery in deliveries] == ["app.installed", "app.store.authorize"]
    assert all(delivery.ok for delivery in deliveries)
    assert [path for path, _, _ in receiver.received] == ["/webhooks/salla"] * 2
    for delivery, (_, body, headers) in zip(deliveries, receiver.received, strict=True):
        assert body == delivery.webhook.body
        assert headers["x-salla-signature"] == _signature(body)
        assert headers["content-type"] == "application/json"
    assert json.loads(receiver.received[1][1])["data"] == sandbox.store(SANDBOX_MERCHANT).last_grant


async def test_uninstall_revokes_the_tokens_and_sends_empty_data(sandbox: Sandbox, sandbox_url: str) -> None:
    receiver = Receiver()
    transport = httpx.ASGITransport(app=receiver)
    deliveries = await sandbox.install(SANDBOX_MERCHANT, "http://wosool/webhooks/salla", transport=transport)
    token = deliveries[1].webhook.data["access_token"]

    uninstalled = await sandbox.uninstall(SANDBOX_MERCHANT, "http://wosool/webhooks/salla", transport=transport)
    async with httpx.AsyncClient() as http:
        answer = await http.get(f"{sandbox.api_url(sandbox_url)}/orders", headers={"Authorization": f"Bearer {token}"})

    assert uninstalled.webhook.envelope["event"] == "app.uninstalled"
    assert uninstalled.webhook.data == {}
    assert answer.status_code == 401


def test_subscription_events_carry_the_plan_and_the_store_type(sandbox: Sandbox) -> None:
    started = json.loads(sandbox.webhook("app.subscription.started", SANDBOX_MERCHANT)[0])["data"]
    trial = sandbox.event_data("app.trial.started", SANDBOX_MERCHANT)
    renewed = sandbox.event_data("app.subscription.renewed", SANDBOX_MERCHANT, plan_name="Yearly")

    for data in (started, trial, renewed):
        assert {
            "id",
            "subscription_id",
            "item_type",
            "item_slug",
            "plan_type",
            "plan_name",
            "plan_period",
            "start_date",
            "end_date",
            "price",
            "tax",
            "total",
            "features",
            "store_type",
        } <= set(data)
        assert data["store_type"] == "live"
    assert trial["price"] == 0
    assert renewed["plan_name"] == "Yearly"
    assert "renew_date" in renewed


def test_store_events_carry_the_record_with_a_numeric_mobile(sandbox: Sandbox) -> None:
    customer_id = sandbox.store(SANDBOX_MERCHANT).customer_ids()[3]

    data = sandbox.event_data("customer.updated", SANDBOX_MERCHANT, record_id=customer_id)
    order = sandbox.event_data("order.created", SANDBOX_MERCHANT)

    assert data["id"] == customer_id
    assert isinstance(data["mobile"], int)
    assert str(data["mobile"]) == sandbox.store(SANDBOX_MERCHANT).customer(customer_id)["mobile"]  # type: ignore[index]
    assert isinstance(order["customer"]["mobile"], int)
    assert order["amounts"]["total"]["amount"] > 0
