from __future__ import annotations

import json

import httpx
import pytest

from app.salla.sandbox import FakeClock, Sandbox
from tests.salla.conftest import SANDBOX_MERCHANT, Receiver, make_sandbox


async def test_updating_a_customer_moves_updated_at_and_queues_customer_updated(
    sandbox: Sandbox, sandbox_api: httpx.AsyncClient
) -> None:
    store = sandbox.store(SANDBOX_MERCHANT)
    customer_id = store.customer_ids()[5]
    before = store.customer(customer_id)

    changed = sandbox.update_customer(SANDBOX_MERCHANT, customer_id, first_name="ليان")
    served = (await sandbox_api.get(f"/customers/{customer_id}")).json()["data"]
    pending = sandbox.pending(SANDBOX_MERCHANT)

    assert changed["first_name"] == "ليان"
    assert changed["updated_at"]["date"] > before["updated_at"]["date"]  # type: ignore[index]
    assert served == changed
    assert [webhook.event for webhook in pending] == ["customer.updated"]
    assert pending[0].data["first_name"] == "ليان"
    assert pending[0].data["updated_at"] == changed["updated_at"]


def test_updated_at_moves_even_when_the_clock_stands_still() -> None:
    sandbox = make_sandbox(clock=FakeClock(start=0.0))
    customer_id = sandbox.store(SANDBOX_MERCHANT).customer_ids()[0]

    first = sandbox.update_customer(SANDBOX_MERCHANT, customer_id, last_name="أ")
    second = sandbox.update_customer(SANDBOX_MERCHANT, customer_id, last_name="ب")

    assert second["updated_at"]["date"] > first["updated_at"]["date"]


async def test_flush_delivers_the_changes_in_order_to_the_installed_url(sandbox: Sandbox) -> None:
    receiver = Receiver()
    transport = httpx.ASGITransport(app=receiver)
    await sandbox.install(SANDBOX_MERCHANT, "http://wosool/webhooks/salla", transport=transport)
    store = sandbox.store(SANDBOX_MERCHANT)
    product_id, order_id = store.product_ids()[0], store.order_ids()[0]
    sandbox.update_product(SANDBOX_MERCHANT, product_id, quantity=3)
    sandbox.update_order(SANDBOX_MERCHANT, order_id, status="delivered")
    sandbox.delete_product(SANDBOX_MERCHANT, product_id)

    deliveries = await sandbox.flush(SANDBOX_MERCHANT, transport=transport)

    assert [d.webhook.event for d in deliveries] == [
        "product.updated",
        "order.status.updated",
        "order.updated",
        "product.deleted",
    ]
    assert [json.loads(body)["event"] for _, body, _ in receiver.received[2:]] == [d.webhook.event for d in deliveries]
    assert deliveries[1].webhook.data["status"]["slug"] == "delivered"
    assert sandbox.pending(SANDBOX_MERCHANT) == []
    assert store.product(product_id) is None


async def test_a_new_order_for_a_known_customer_is_listed_first(
    sandbox: Sandbox, sandbox_api: httpx.AsyncClient
) -> None:
    customer_id = sandbox.store(SANDBOX_MERCHANT).customer_ids()[-1]

    created = sandbox.create_order(SANDBOX_MERCHANT, customer_id=customer_id)
    listed = (await sandbox_api.get("/orders")).json()
    mine = (await sandbox_api.get("/orders", params={"customer_id": customer_id})).json()

    assert listed["data"][0]["id"] == created["id"]
    assert listed["pagination"]["total"] == 61
    assert created["status"]["slug"] == "under_review"
    assert created["customer"]["id"] == customer_id
    assert created["id"] in {order["id"] for order in mine["data"]}
    assert sandbox.pending(SANDBOX_MERCHANT)[0].event == "order.created"


async def test_a_subscription_gets_its_event_with_its_headers(sandbox: Sandbox, sandbox_api: httpx.AsyncClient) -> None:
    subscribed = await sandbox_api.post(
        "/webhooks/subscribe",
        json={
            "name": "Wosool customers",
            "event": "customer.created",
            "url": "http://wosool/hooks/customers",
            "version": 2,
            "headers": [{"key": "X-Wosool", "value": "yes"}],
        },
    )
    invalid = await sandbox_api.post("/webhooks/subscribe", json={"event": "customer.created"})
    receiver = Receiver()
    sandbox.create_customer(SANDBOX_MERCHANT, first_name="Lama")

    deliveries = await sandbox.flush(SANDBOX_MERCHANT, transport=httpx.ASGITransport(app=receiver))

    assert subscribed.status_code == 201
    assert subscribed.json()["data"]["event"] == "customer.created"
    assert invalid.status_code == 422
    assert set(invalid.json()["error"]["fields"]) == {"name", "url"}
    assert [d.url for d in deliveries] == ["http://wosool/hooks/customers"]
    path, body, headers = receiver.received[0]
    assert path == "/hooks/customers"
    assert headers["x-wosool"] == "yes"
    assert json.loads(body)["data"]["first_name"] == "Lama"


def test_changes_refuse_unknown_fields_and_records(sandbox: Sandbox) -> None:
    customer_id = sandbox.store(SANDBOX_MERCHANT).customer_ids()[0]

    with pytest.raises(ValueError, match="favourite_colour"):
        sandbox.update_customer(SANDBOX_MERCHANT, customer_id, favourite_colour="blue")
    with pytest.raises(KeyError):
        sandbox.update_customer(SANDBOX_MERCHANT, 1, first_name="x")
    assert sandbox.pending(SANDBOX_MERCHANT) == []


async def test_an_abandoned_cart_names_its_customer(sandbox: Sandbox) -> None:
    customer_id = sandbox.store(SANDBOX_MERCHANT).customer_ids()[2]

    cart = sandbox.abandon_cart(SANDBOX_MERCHANT, customer_id)

    assert cart["customer"]["id"] == customer_id
    assert cart["items"]
    assert cart["total"]["currency"] == "SAR"
    assert sandbox.pending(SANDBOX_MERCHANT)[0].event == "abandoned.cart"
