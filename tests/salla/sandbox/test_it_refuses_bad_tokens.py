from __future__ import annotations

import httpx

from app.salla.sandbox import FakeClock
from tests.salla.conftest import SANDBOX_MERCHANT, make_sandbox


def _api(sandbox_asgi: object, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox_asgi),  # type: ignore[arg-type]
        base_url="http://sandbox/admin/v2",
        headers={"Authorization": f"Bearer {token}"} if token else {},
    )


async def test_no_token_or_a_made_up_one_gets_401_and_no_rate_limit_headers() -> None:
    sandbox = make_sandbox()
    async with _api(sandbox.asgi, "") as anonymous, _api(sandbox.asgi, "made-up") as forger:
        responses = [await anonymous.get("/customers"), await forger.get("/orders")]

    for response in responses:
        assert response.status_code == 401
        assert response.json() == {
            "status": 401,
            "success": False,
            "error": {"code": "unauthorized", "message": "The access token is invalid"},
        }
        assert "x-ratelimit-limit" not in response.headers
    assert sandbox.stats(SANDBOX_MERCHANT).requests == 0


async def test_an_access_token_stops_working_when_it_expires() -> None:
    clock = FakeClock()
    sandbox = make_sandbox(clock=clock)
    grant = sandbox.issue_tokens(SANDBOX_MERCHANT, expires_in=3600)

    async with _api(sandbox.asgi, grant["access_token"]) as api:
        before = await api.get("/products")
        clock.advance(3599)
        last_second = await api.get("/products")
        clock.advance(1)
        after = await api.get("/products")

    assert grant["expires"] == int(clock.now)
    assert before.status_code == last_second.status_code == 200
    assert after.status_code == 401


async def test_tokens_last_14_days_by_default() -> None:
    clock = FakeClock()
    sandbox = make_sandbox(clock=clock)

    grant = sandbox.issue_tokens(SANDBOX_MERCHANT)

    assert grant["expires"] == int(clock.now + 14 * 86_400)
    assert grant["token_type"] == "bearer"
    assert "offline_access" in grant["scope"].split()


async def test_revoked_tokens_get_401_and_new_ones_work() -> None:
    sandbox = make_sandbox()
    old = sandbox.issue_tokens(SANDBOX_MERCHANT)["access_token"]

    sandbox.revoke_tokens(SANDBOX_MERCHANT)
    new = sandbox.issue_tokens(SANDBOX_MERCHANT)["access_token"]
    async with _api(sandbox.asgi, old) as revoked, _api(sandbox.asgi, new) as fresh:
        refused = await revoked.get("/customers")
        served = await fresh.get("/customers")

    assert refused.status_code == 401
    assert served.status_code == 200


async def test_a_token_reads_only_its_own_store() -> None:
    sandbox = make_sandbox()
    sandbox.add_store(merchant_id=99, username="other", name="متجر آخر", owner_email="o@o.sa", customers=3, seed=9)
    other_token = sandbox.issue_tokens(99)["access_token"]
    noor_customer = sandbox.store(SANDBOX_MERCHANT).customer_ids()[0]

    async with _api(sandbox.asgi, other_token) as api:
        listed = (await api.get("/customers")).json()
        peeked = await api.get(f"/customers/{noor_customer}")

    assert listed["pagination"]["total"] == 3
    assert peeked.status_code == 404
    assert sandbox.stats(99).requests == 2
    assert sandbox.stats(SANDBOX_MERCHANT).requests == 0
