from __future__ import annotations

import json
import re
import tracemalloc

from app.salla.sandbox import Sandbox
from tests.salla.conftest import SANDBOX_MERCHANT

_ARABIC = re.compile(r"[\u0600-\u06FF]")


def _store_dump(sandbox: Sandbox, merchant_id: int) -> str:
    store = sandbox.store(merchant_id)
    records = (
        [store.customer(i) for i in store.customer_ids()]
        + [store.product(i) for i in store.product_ids()]
        + [store.order(i) for i in store.order_ids()]
    )
    return json.dumps(records, ensure_ascii=False, sort_keys=True)


def _new(seed: int) -> Sandbox:
    sandbox = Sandbox()
    sandbox.add_store(
        merchant_id=55, username="seeded", name="متجر", owner_email="s@s.sa", customers=30, products=10, orders=40,
        seed=seed,
    )  # fmt: skip
    return sandbox


def test_the_same_seed_makes_the_same_store_and_another_seed_another() -> None:
    assert _store_dump(_new(7), 55) == _store_dump(_new(7), 55)
    assert _store_dump(_new(7), 55) != _store_dump(_new(8), 55)


def test_customers_look_saudi(sandbox: Sandbox) -> None:
    store = sandbox.store(SANDBOX_MERCHANT)
    customers = [store.customer(i) for i in store.customer_ids()]

    mobiles = [c["mobile"] for c in customers]  # type: ignore[index]
    emails = [c["email"] for c in customers if c["email"]]  # type: ignore[index]
    assert all(re.fullmatch(r"5[0-9]{8}", mobile) for mobile in mobiles)
    assert len(set(mobiles)) == len(mobiles)
    assert len(set(emails)) == len(emails) > len(customers) // 2
    assert all(re.fullmatch(r"[a-z0-9._]+@[a-z]+\.[a-z]+", email) for email in emails)
    assert {c["mobile_code"] for c in customers} == {"+966"}  # type: ignore[index]
    assert {c["country_code"] for c in customers} == {"SA"}  # type: ignore[index]
    assert all(_ARABIC.search(c["city"]) for c in customers)  # type: ignore[index]
    names = [c["first_name"] for c in customers]  # type: ignore[index]
    assert any(_ARABIC.search(name) for name in names)
    assert any(name.isascii() for name in names)
    for customer in customers:
        assert set(customer["updated_at"]) == {"date", "timezone_type", "timezone"}  # type: ignore[index]
        assert customer["gender"] in {"male", "female"}  # type: ignore[index]


def test_products_have_sar_prices_and_salla_s_statuses(sandbox: Sandbox) -> None:
    store = sandbox.store(SANDBOX_MERCHANT)
    products = [store.product(i) for i in store.product_ids()]

    for product in products:
        assert product["price"]["currency"] == "SAR"  # type: ignore[index]
        assert product["price"]["amount"] > 0  # type: ignore[index]
        assert product["status"] in {"sale", "out", "hidden"}  # type: ignore[index]
        assert isinstance(product["cost_price"], str)  # type: ignore[index]
        assert _ARABIC.search(product["name"])  # type: ignore[index]
        assert product["quantity"] is None or isinstance(product["quantity"], int | str)  # type: ignore[index]
    assert len({p["sku"] for p in products}) == len(products)  # type: ignore[index]


def test_orders_reference_the_store_s_customers_and_products(sandbox: Sandbox) -> None:
    store = sandbox.store(SANDBOX_MERCHANT)
    customers, products = set(store.customer_ids()), set(store.product_ids())
    orders = [store.order(i) for i in store.order_ids()]

    for order in orders:
        assert order["customer"]["id"] in customers  # type: ignore[index]
        assert order["customer"] == {"full_name": order["customer"]["full_name"]} | store.customer(  # type: ignore[index,operator]
            order["customer"]["id"]  # type: ignore[index]
        )
        assert {item["product"]["id"] for item in order["items"]} <= products  # type: ignore[index]
        assert _ARABIC.search(order["status"]["name"])  # type: ignore[index]
    dates = [order["date"]["date"] for order in orders]  # type: ignore[index]
    assert dates == sorted(dates, reverse=True)
    assert len({order["status"]["slug"] for order in orders}) > 2  # type: ignore[index]
    assert len({order["reference_id"] for order in orders}) == len(orders)  # type: ignore[index]


def test_a_benchmark_sized_store_is_made_on_demand() -> None:
    sandbox = Sandbox()
    tracemalloc.start()
    try:
        store = sandbox.add_store(
            merchant_id=9, username="big", name="متجر كبير", owner_email="b@b.sa", customers=10_000, products=2_000,
            orders=20_000, seed=4,
        )  # fmt: skip
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    oldest_order = store.order(store.data.orders.base_id)

    assert peak < 200_000  # nothing was generated up front
    assert store.data.customers.count() == 10_000
    assert oldest_order is not None
    assert oldest_order["customer"]["id"] in range(store.data.customers.base_id, store.data.customers.base_id + 10_000)
    assert store.order(store.data.orders.base_id + 20_000) is None
