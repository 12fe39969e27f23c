from __future__ import annotations

import httpx

from app.salla.sandbox import Sandbox
from tests.salla.conftest import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_MERCHANT, make_sandbox

CALLBACK = "http://127.0.0.1:8000/oauth/salla/callback"


async def _authorize(http: httpx.AsyncClient, accounts: str, **params: str) -> httpx.Response:
    query = {
        "client_id": SANDBOX_CLIENT_ID,
        "response_type": "code",
        "redirect_uri": CALLBACK,
        "scope": "offline_access customers.read",
    } | params
    return await http.get(f"{accounts}/oauth2/auth", params=query)


async def _exchange(http: httpx.AsyncClient, accounts: str, code: str, redirect_uri: str = CALLBACK) -> httpx.Response:
    return await http.post(
        f"{accounts}/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": SANDBOX_CLIENT_ID,
            "client_secret": SANDBOX_CLIENT_SECRET,
            "redirect_uri": redirect_uri,
        },
    )


async def test_it_redirects_back_with_a_code_and_the_state_without_hyphens(sandbox: Sandbox, sandbox_url: str) -> None:
    async with httpx.AsyncClient() as http:
        response = await _authorize(http, sandbox.accounts_url(sandbox_url), state="3f1c-9a2e-77b0")

    location = httpx.URL(response.headers["location"])
    assert response.status_code == 302
    assert str(location.copy_with(query=None)) == CALLBACK
    assert location.params["state"] == "3f1c9a2e77b0"
    assert location.params["code"]
    assert location.params["scope"] == "offline_access customers.read"


async def test_a_code_buys_tokens_once(sandbox: Sandbox, sandbox_url: str) -> None:
    accounts, api = sandbox.accounts_url(sandbox_url), sandbox.api_url(sandbox_url)
    async with httpx.AsyncClient() as http:
        code = httpx.URL((await _authorize(http, accounts, state="s")).headers["location"]).params["code"]
        first = await _exchange(http, accounts, code)
        again = await _exchange(http, accounts, code)
        orders = await http.get(f"{api}/orders", headers={"Authorization": f"Bearer {first.json()['access_token']}"})

    assert first.status_code == 200
    assert first.json()["scope"] == "offline_access customers.read"
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    assert orders.status_code == 401  # a replayed code revokes what it bought


async def test_the_redirect_uri_must_match_and_the_client_must_be_known(sandbox: Sandbox, sandbox_url: str) -> None:
    accounts = sandbox.accounts_url(sandbox_url)
    async with httpx.AsyncClient() as http:
        code = httpx.URL((await _authorize(http, accounts)).headers["location"]).params["code"]
        mismatch = await _exchange(http, accounts, code, redirect_uri="http://evil.example/cb")
        stranger = await _authorize(http, accounts, client_id="someone-else")
        not_code = await _authorize(http, accounts, response_type="token", state="a-b")

    assert mismatch.json()["error"] == "invalid_grant"
    assert stranger.status_code == 400
    assert stranger.json()["error"] == "invalid_client"
    assert httpx.URL(not_code.headers["location"]).params["error"] == "unsupported_response_type"
    assert httpx.URL(not_code.headers["location"]).params["state"] == "ab"


async def test_an_app_store_install_lands_on_the_callback_with_salla_s_own_state(
    sandbox: Sandbox, sandbox_url: str
) -> None:
    url = httpx.URL(sandbox.install_redirect(SANDBOX_MERCHANT, CALLBACK, state="salla-made-this"))

    async with httpx.AsyncClient() as http:
        exchanged = await _exchange(http, sandbox.accounts_url(sandbox_url), url.params["code"])

    assert url.params["state"] == "sallamadethis"
    assert exchanged.status_code == 200


async def test_user_info_describes_the_merchant(sandbox: Sandbox, sandbox_url: str) -> None:
    token = sandbox.issue_tokens(SANDBOX_MERCHANT)["access_token"]

    async with httpx.AsyncClient() as http:
        info = await http.get(
            f"{sandbox.accounts_url(sandbox_url)}/oauth2/user/info", headers={"Authorization": f"Bearer {token}"}
        )
        refused = await http.get(f"{sandbox.accounts_url(sandbox_url)}/oauth2/user/info")

    body = info.json()
    assert body["status"] == 200
    assert body["success"] is True
    assert {"id", "name", "email", "mobile", "role", "merchant"} <= set(body["data"])
    assert body["data"]["email"] == "owner@noor.sa"
    merchant = body["data"]["merchant"]
    assert {"id", "username", "name", "avatar", "store_location", "plan", "status", "domain"} <= set(merchant)
    assert (merchant["id"], merchant["username"], merchant["name"], merchant["plan"]) == (
        SANDBOX_MERCHANT,
        "noor-store",
        "متجر نور",
        "pro",
    )
    assert refused.status_code == 401


async def test_user_info_can_come_without_the_data_envelope() -> None:
    sandbox = make_sandbox(user_info_envelope=False)
    token = sandbox.issue_tokens(SANDBOX_MERCHANT)["access_token"]
    transport = httpx.ASGITransport(app=sandbox.asgi)

    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as http:
        body = (await http.get("/accounts/oauth2/user/info", headers={"Authorization": f"Bearer {token}"})).json()

    assert body["merchant"]["id"] == SANDBOX_MERCHANT
    assert "data" not in body
