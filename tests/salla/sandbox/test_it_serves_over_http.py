from __future__ import annotations

import asyncio

import httpx

from app.salla.sandbox import Sandbox, serve_sandbox_in_thread
from app.settings import Settings
from tests.salla.conftest import SANDBOX_CLIENT_ID, SANDBOX_MERCHANT, SANDBOX_WEBHOOK_SECRET, make_sandbox


async def test_it_serves_accounts_and_api_under_their_mount_points(sandbox: Sandbox, sandbox_url: str) -> None:
    async with httpx.AsyncClient() as http:
        described = await http.get(sandbox_url)
        elsewhere = await http.get(f"{sandbox_url}/nowhere")

    assert sandbox.accounts_url(sandbox_url) == f"{sandbox_url}/accounts"
    assert sandbox.api_url(sandbox_url) == f"{sandbox_url}/admin/v2"
    assert described.json()["stores"][0]["merchant_id"] == SANDBOX_MERCHANT
    assert elsewhere.status_code == 404


async def test_it_answers_concurrent_clients(sandbox: Sandbox, sandbox_api: httpx.AsyncClient) -> None:
    answers = await asyncio.gather(*(sandbox_api.get("/orders", params={"page": page}) for page in range(1, 5)))

    assert [answer.status_code for answer in answers] == [200] * 4
    assert len({order["id"] for answer in answers for order in answer.json()["data"]}) == 60
    assert sandbox.stats(SANDBOX_MERCHANT).requests == 4


def test_it_can_be_served_from_a_thread() -> None:
    sandbox = make_sandbox()
    token = sandbox.issue_tokens(SANDBOX_MERCHANT)["access_token"]

    with serve_sandbox_in_thread(sandbox) as base_url:
        answer = httpx.get(f"{sandbox.api_url(base_url)}/products", headers={"Authorization": f"Bearer {token}"})
    after = _refused(base_url)

    assert answer.status_code == 200
    assert answer.json()["pagination"]["total"] == 20
    assert after  # the server stopped with the block


def _refused(base_url: str) -> bool:
    try:
        httpx.get(base_url, timeout=2)
    except httpx.ConnectError:
        return True
    return False


def test_salla_settings_point_wosool_at_the_sandbox(salla_settings: Settings, sandbox_url: str) -> None:
    assert salla_settings.salla.accounts_url == f"{sandbox_url}/accounts"
    assert salla_settings.salla.api_url == f"{sandbox_url}/admin/v2"
    assert salla_settings.salla.client_id == SANDBOX_CLIENT_ID
    assert salla_settings.salla.webhook_secret == SANDBOX_WEBHOOK_SECRET
    assert salla_settings.salla.webhook_strategy == "signature"
    assert salla_settings.database_url  # still the test's own databases
