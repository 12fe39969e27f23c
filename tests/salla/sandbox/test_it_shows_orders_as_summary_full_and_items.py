from __future__ import annotations

import httpx

from app.salla.sandbox import Sandbox
from tests.salla.conftest import SANDBOX_MERCHANT


async def test_the_list_holds_summaries_only(sandbox_api: httpx.AsyncClient) -> None:
    summary = (await sandbox_api.get("/orders")).json()["data"][0]

    assert {"id", "reference_id", "total", "date", "status", "items", "customer"} <= set(summary)
    assert "amounts" not in summary
    assert set(summary["total"]) == {"amount", "currency"}
    assert set(summary["date"]) == {"date", "timezone_type", "timezone"}
    assert {"id", "name", "slug"} <= set(summary["status"])
    assert all(set(item) == {"name", "quantity", "thumbnail"} for item in summary["items"])
    assert isinstance(summary["customer"]["id"], int)


async def test_the_full_order_agrees_with_its_summary_and_its_items(sandbox_api: httpx.AsyncClient) -> None:
    summary = (await sandbox_api.get("/orders")).json()["data"][0]

    full = (await sandbox_api.get(f"/orders/{summary['id']}")).json()["data"]
    items = (await sandbox_api.get("/orders/items", params={"order_id": summary["id"]})).json()["data"]

    assert full["reference_id"] == summary["reference_id"]
    assert full["amounts"]["total"] == summary["total"]
    assert full["status"] == summary["status"]
    assert full["customer"]["id"] == summary["customer"]["id"]
    assert items == full["items"]
    assert [(item["name"], item["quantity"]) for item in items] == [
        (item["name"], item["quantity"]) for item in summary["items"]
    ]
    for item in items:
        assert {"id", "name", "sku", "quantity", "currency", "amounts", "product"} <= set(item)
        assert {"price_without_tax", "total_discount", "total"} <= set(item["amounts"])
        assert {"id", "name", "sku", "price"} <= set(item["product"])


async def test_an_order_s_amounts_add_up(sandbox: Sandbox, sandbox_api: httpx.AsyncClient) -> None:
    sandbox.set_rate_limit(SANDBOX_MERCHANT, per_minute=1000)
    for order_id in sandbox.store(SANDBOX_MERCHANT).order_ids()[:25]:
        order = (await sandbox_api.get(f"/orders/{order_id}")).json()["data"]
        amounts = order["amounts"]
        lines = sum(_halalas(item["amounts"]["total"]) for item in order["items"])
        discounts = sum(round(discount["discount"] * 100) for discount in amounts["discounts"])

        assert _halalas(amounts["sub_total"]) == lines
        assert _halalas(amounts["total"]) == (
            lines
            - discounts
            + _halalas(amounts["shipping_cost"])
            + _halalas(amounts["cash_on_delivery"])
            + _halalas(amounts["tax"]["amount"])
        )
        assert amounts["total"]["currency"] == "SAR"


async def test_order_items_need_an_existing_order(sandbox_api: httpx.AsyncClient) -> None:
    missing = await sandbox_api.get("/orders/items")
    unknown = await sandbox_api.get("/orders/items", params={"order_id": 42})

    assert missing.status_code == 422
    assert "order_id" in missing.json()["error"]["fields"]
    assert unknown.status_code == 404


async def test_orders_filter_by_customer_date_and_status(sandbox: Sandbox, sandbox_api: httpx.AsyncClient) -> None:
    store = sandbox.store(SANDBOX_MERCHANT)
    orders = [store.order(order_id) for order_id in store.order_ids()]
    customer_id = orders[0]["customer"]["id"]  # type: ignore[index]
    day = orders[0]["date"]["date"][:10]  # type: ignore[index]

    by_customer = (await sandbox_api.get("/orders", params={"customer_id": customer_id, "per_page": 60})).json()
    by_day = (await sandbox_api.get("/orders", params={"from_date": day, "to_date": day, "per_page": 60})).json()
    completed = (await sandbox_api.get("/orders", params={"status": "completed", "per_page": 60})).json()

    assert {o["id"] for o in by_customer["data"]} == {o["id"] for o in orders if o["customer"]["id"] == customer_id}  # type: ignore[index]
    assert {o["id"] for o in by_day["data"]} == {o["id"] for o in orders if o["date"]["date"][:10] == day}  # type: ignore[index]
    assert by_day["pagination"]["total"] >= 1
    assert completed["pagination"]["total"] == sum(o["status"]["slug"] == "completed" for o in orders)  # type: ignore[index]
    assert {o["status"]["slug"] for o in completed["data"]} == {"completed"}


def _halalas(money: dict[str, float]) -> int:
    return round(money["amount"] * 100)
