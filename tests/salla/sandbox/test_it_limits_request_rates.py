from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from app.salla.sandbox import FakeClock, Sandbox
from tests.salla.conftest import SANDBOX_MERCHANT, make_sandbox


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=1_800_000_000.0)


@pytest.fixture
def limited(clock: FakeClock) -> Sandbox:
    return make_sandbox(clock=clock)


@pytest.fixture
async def api(limited: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    token = limited.issue_tokens(SANDBOX_MERCHANT)["access_token"]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=limited.asgi),
        base_url="http://sandbox/admin/v2",
        headers={"Authorization": f"Bearer {token}"},
    ) as client:
        yield client


async def test_every_answer_carries_the_plan_s_rate_limit_headers(limited: Sandbox, api: httpx.AsyncClient) -> None:
    answers = [await api.get("/products"), await api.get("/orders/1"), await api.get("/no-such-thing")]

    assert [answer.status_code for answer in answers] == [200, 404, 404]
    assert [answer.headers["X-RateLimit-Limit"] for answer in answers] == ["360", "360", "360"]  # pro
    assert [answer.headers["X-RateLimit-Remaining"] for answer in answers] == ["359", "358", "357"]
    assert {answer.headers["X-RateLimit-Reset"] for answer in answers} == {str(1_800_000_000 + 60)}


async def test_each_plan_has_its_rate(clock: FakeClock) -> None:
    sandbox = Sandbox(clock=clock)
    limits = {}
    for merchant_id, plan in enumerate(("plus", "pro", "special", "basic"), start=1):
        sandbox.add_store(merchant_id=merchant_id, username=plan, name=plan, owner_email="x@y.sa", plan=plan)
        token = sandbox.issue_tokens(merchant_id)["access_token"]
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox.asgi), base_url="http://s") as http:
            answer = await http.get("/admin/v2/products", headers={"Authorization": f"Bearer {token}"})
        limits[plan] = answer.headers["X-RateLimit-Limit"]

    assert limits == {"plus": "120", "pro": "360", "special": "720", "basic": "120"}


async def test_over_the_limit_it_answers_429_with_retry_after_then_leaks_one_a_second(
    limited: Sandbox, api: httpx.AsyncClient, clock: FakeClock
) -> None:
    limited.set_rate_limit(SANDBOX_MERCHANT, per_minute=5)

    within = [(await api.get("/products")).status_code for _ in range(5)]
    over = await api.get("/products")
    clock.advance(1)
    leaked = await api.get("/products")
    right_after = await api.get("/products")

    assert within == [200] * 5
    assert over.status_code == 429
    assert over.json()["error"]["code"] == "too_many_requests"
    assert over.json()["success"] is False
    assert over.headers["Retry-After"] == "1"
    assert over.headers["X-RateLimit-Remaining"] == "0"
    assert leaked.status_code == 200
    assert right_after.status_code == 429
    stats = limited.stats(SANDBOX_MERCHANT)
    assert (stats.requests, stats.throttled, stats.by_status) == (8, 2, {200: 6, 429: 2})


async def test_a_new_minute_brings_a_fresh_budget(limited: Sandbox, api: httpx.AsyncClient, clock: FakeClock) -> None:
    limited.set_rate_limit(SANDBOX_MERCHANT, per_minute=3, leak_per_second=0)
    for _ in range(3):
        await api.get("/orders")
    refused = await api.get("/orders")
    clock.advance(59)
    still_refused = await api.get("/orders")
    clock.advance(1)
    fresh = await api.get("/orders")

    assert refused.status_code == still_refused.status_code == 429
    assert refused.headers["Retry-After"] == "60"
    assert still_refused.headers["Retry-After"] == "1"
    assert fresh.status_code == 200
    assert fresh.headers["X-RateLimit-Remaining"] == "2"
    assert fresh.headers["X-RateLimit-Reset"] == str(int(clock.now) + 60)


async def test_the_customers_endpoints_have_their_own_ten_minute_budget(
    limited: Sandbox, api: httpx.AsyncClient, clock: FakeClock
) -> None:
    limited.set_rate_limit(SANDBOX_MERCHANT, per_minute=1000, customers_per_10_minutes=4)
    customer_id = limited.store(SANDBOX_MERCHANT).customer_ids()[0]

    allowed = [(await api.get(path)).status_code for path in ("/customers", f"/customers/{customer_id}") * 2]
    refused = await api.get("/customers")
    others = await api.get("/products")
    clock.advance(600)
    again = await api.get("/customers")

    assert allowed == [200] * 4
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "too_many_requests"
    assert refused.headers["Retry-After"] == "600"
    assert others.status_code == 200
    assert again.status_code == 200


async def test_the_customers_budget_defaults_to_500(limited: Sandbox, api: httpx.AsyncClient) -> None:
    limited.set_rate_limit(SANDBOX_MERCHANT, per_minute=10_000)

    statuses = [(await api.get("/customers", params={"per_page": 1})).status_code for _ in range(501)]

    assert statuses[:500] == [200] * 500
    assert statuses[500] == 429


async def test_stats_count_requests_per_route(limited: Sandbox, api: httpx.AsyncClient) -> None:
    order_id = limited.store(SANDBOX_MERCHANT).order_ids()[0]
    for path in ("/orders", f"/orders/{order_id}", f"/orders/{order_id}", "/orders/items?order_id=1"):
        await api.get(path)

    stats = limited.stats(SANDBOX_MERCHANT)
    limited.reset_stats(SANDBOX_MERCHANT)

    assert stats.by_path == {"/orders": 1, "/orders/{id}": 2, "/orders/items": 1}
    assert stats.requests == 4
    assert stats.throttled == 0
    assert limited.stats(SANDBOX_MERCHANT).requests == 0
