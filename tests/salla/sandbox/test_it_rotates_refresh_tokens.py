from __future__ import annotations

import httpx

from app.salla.sandbox import FakeClock, Sandbox
from tests.salla.conftest import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_MERCHANT, make_sandbox


async def _refresh(http: httpx.AsyncClient, accounts_url: str, refresh_token: str) -> httpx.Response:
    return await http.post(
        f"{accounts_url}/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": SANDBOX_CLIENT_ID,
            "client_secret": SANDBOX_CLIENT_SECRET,
        },
    )


async def _status(http: httpx.AsyncClient, api_url: str, access_token: str) -> int:
    response = await http.get(f"{api_url}/customers", headers={"Authorization": f"Bearer {access_token}"})
    return response.status_code


async def test_a_refresh_answers_a_new_pair_and_the_old_refresh_token_is_spent(
    sandbox: Sandbox, sandbox_url: str
) -> None:
    accounts, api = sandbox.accounts_url(sandbox_url), sandbox.api_url(sandbox_url)
    first = sandbox.issue_tokens(SANDBOX_MERCHANT)

    async with httpx.AsyncClient() as http:
        response = await _refresh(http, accounts, first["refresh_token"])
        second = response.json()
        new_access_works = await _status(http, api, second["access_token"])

    assert response.status_code == 200
    assert set(second) == {"access_token", "refresh_token", "expires", "scope", "token_type"}
    assert second["token_type"] == "bearer"
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] != first["refresh_token"]
    assert second["expires"] > 1_000_000_000  # absolute unix seconds, not a duration
    assert new_access_works == 200
    assert sandbox.stats(SANDBOX_MERCHANT).refreshes == 1


async def test_reusing_a_spent_refresh_token_is_invalid_grant_and_revokes_what_it_gave(
    sandbox: Sandbox, sandbox_url: str
) -> None:
    accounts, api = sandbox.accounts_url(sandbox_url), sandbox.api_url(sandbox_url)
    first = sandbox.issue_tokens(SANDBOX_MERCHANT)

    async with httpx.AsyncClient() as http:
        second = (await _refresh(http, accounts, first["refresh_token"])).json()
        assert await _status(http, api, second["access_token"]) == 200
        reuse = await _refresh(http, accounts, first["refresh_token"])
        new_access = await _status(http, api, second["access_token"])
        new_refresh = await _refresh(http, accounts, second["refresh_token"])

    assert reuse.status_code == 400
    assert reuse.json()["error"] == "invalid_grant"
    assert new_access == 401
    assert new_refresh.status_code == 400
    assert new_refresh.json()["error"] == "invalid_grant"
    assert sandbox.stats(SANDBOX_MERCHANT).invalid_grants == 2


async def test_refreshing_along_the_chain_keeps_working(sandbox: Sandbox, sandbox_url: str) -> None:
    accounts, api = sandbox.accounts_url(sandbox_url), sandbox.api_url(sandbox_url)
    grant = sandbox.issue_tokens(SANDBOX_MERCHANT)

    async with httpx.AsyncClient() as http:
        for _ in range(5):
            grant = (await _refresh(http, accounts, grant["refresh_token"])).json()
        works = await _status(http, api, grant["access_token"])

    assert works == 200
    assert sandbox.stats(SANDBOX_MERCHANT).refreshes == 5


async def test_the_token_endpoint_wants_a_form_and_the_app_s_credentials(sandbox: Sandbox, sandbox_url: str) -> None:
    accounts = sandbox.accounts_url(sandbox_url)
    refresh_token = sandbox.issue_tokens(SANDBOX_MERCHANT)["refresh_token"]
    form = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": SANDBOX_CLIENT_ID,
        "client_secret": "wrong",
    }

    async with httpx.AsyncClient() as http:
        as_json = await http.post(f"{accounts}/oauth2/token", json=form | {"client_secret": SANDBOX_CLIENT_SECRET})
        wrong_secret = await http.post(f"{accounts}/oauth2/token", data=form)
        odd_grant = await http.post(
            f"{accounts}/oauth2/token", data=form | {"grant_type": "password", "client_secret": SANDBOX_CLIENT_SECRET}
        )
        still_good = await _refresh(http, accounts, refresh_token)

    assert as_json.status_code == 400
    assert as_json.json()["error"] == "invalid_request"
    assert wrong_secret.status_code == 401
    assert wrong_secret.json()["error"] == "invalid_client"
    assert odd_grant.json()["error"] == "unsupported_grant_type"
    assert still_good.status_code == 200  # refused attempts spent nothing


async def test_refreshed_tokens_live_for_the_sandbox_s_token_lifetime() -> None:
    clock = FakeClock()
    sandbox = make_sandbox(clock=clock, access_token_seconds=600, token_expiry_field="both")
    refresh_token = sandbox.issue_tokens(SANDBOX_MERCHANT, expires_in=60)["refresh_token"]
    transport = httpx.ASGITransport(app=sandbox.asgi)

    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as http:
        answer = (await _refresh(http, "http://sandbox/accounts", refresh_token)).json()

    assert answer["expires_in"] == 600
    assert answer["expires"] == int(clock.now) + 600


async def test_a_client_can_be_handed_expires_in_instead() -> None:
    sandbox = make_sandbox(token_expiry_field="expires_in")
    refresh_token = sandbox.issue_tokens(SANDBOX_MERCHANT)["refresh_token"]
    transport = httpx.ASGITransport(app=sandbox.asgi)

    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as http:
        answer = (await _refresh(http, "http://sandbox/accounts", refresh_token)).json()

    assert "expires" not in answer
    assert answer["expires_in"] == 14 * 86_400
