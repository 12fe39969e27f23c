"""Custom mode and "Log in with Salla": the merchant goes to Salla and back with a one-time code; the store is
connected like an Easy-mode install and its owner is signed in. The state must match (Salla strips its hyphens),
a code works once, and a callback this browser did not start connects the store but signs nobody in."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx

from app.salla import store_repository
from app.salla.oauth_routes import STATE_KEY, callback_url
from app.salla.sandbox import Sandbox
from app.settings import Settings
from tests.salla.support import MERCHANT, registry_rows


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


async def _go_to_salla_and_back(salla_app: httpx.AsyncClient) -> httpx.Response:
    """Start at Wosool, consent at the sandbox (it skips Salla's screens), return to the callback."""
    start = await salla_app.get("/oauth/salla/start")
    assert start.status_code in (302, 303)
    async with httpx.AsyncClient() as browser_at_salla:
        consent = await browser_at_salla.get(start.headers["location"])
    assert consent.status_code in (302, 303)
    return await salla_app.get(_path(consent.headers["location"]))


async def test_it_connects_the_store_and_signs_its_owner_in(
    sandbox: Sandbox, salla_settings: Settings, salla_app: httpx.AsyncClient
) -> None:
    back = await _go_to_salla_and_back(salla_app)

    assert back.status_code in (302, 303)
    assert back.headers["location"] == "/t/noor-store/salla"
    page = await salla_app.get("/t/noor-store/salla")
    assert page.status_code == 200
    assert "متجر نور" in page.text
    store = await store_repository.store_by_merchant(MERCHANT)
    assert store is not None
    assert store.status == "connected"


async def test_the_state_survives_salla_stripping_its_hyphens(
    sandbox: Sandbox, salla_settings: Settings, salla_app: httpx.AsyncClient
) -> None:
    start = await salla_app.get("/oauth/salla/start")
    sent_state = parse_qs(urlsplit(start.headers["location"]).query)["state"][0]
    async with httpx.AsyncClient() as browser_at_salla:
        consent = await browser_at_salla.get(start.headers["location"])
    returned_state = parse_qs(urlsplit(consent.headers["location"]).query)["state"][0]
    assert returned_state == sent_state.replace("-", "")

    back = await salla_app.get(_path(consent.headers["location"]))

    assert back.status_code in (302, 303)
    assert back.headers["location"] == "/t/noor-store/salla"


async def test_a_wrong_state_is_refused_and_connects_nothing(
    sandbox: Sandbox, salla_settings: Settings, salla_app: httpx.AsyncClient
) -> None:
    await salla_app.get("/oauth/salla/start")
    code = sandbox.issue_code(MERCHANT, callback_url(salla_settings))

    answer = await salla_app.get("/oauth/salla/callback", params={"code": code, "state": "forged"})

    assert answer.status_code == 400
    assert "start again" in answer.text
    assert await registry_rows("SELECT id FROM salla_stores") == []


async def test_a_code_works_only_once(sandbox: Sandbox, salla_settings: Settings, salla_app: httpx.AsyncClient) -> None:
    start = await salla_app.get("/oauth/salla/start")
    async with httpx.AsyncClient() as browser_at_salla:
        consent = await browser_at_salla.get(start.headers["location"])
    callback = _path(consent.headers["location"])
    await salla_app.get(callback)

    again = await salla_app.get(callback)

    assert again.status_code == 400
    assert "already used" in again.text


async def test_a_callback_salla_sent_on_its_own_connects_the_store_but_signs_nobody_in(
    sandbox: Sandbox, salla_settings: Settings, salla_app: httpx.AsyncClient
) -> None:
    after_install = sandbox.install_redirect(MERCHANT, callback_url(salla_settings), state="salla-own-state")

    answer = await salla_app.get(_path(after_install))

    assert answer.status_code in (302, 303)
    assert answer.headers["location"] == "/oauth/salla/start"
    store = await store_repository.store_by_merchant(MERCHANT)
    assert store is not None
    assert store.status == "connected"
    assert (await salla_app.get("/t/noor-store/salla", follow_redirects=False)).status_code in (302, 303, 401)


async def test_an_owner_made_by_the_install_sets_a_first_password(
    sandbox: Sandbox, salla_settings: Settings, salla_app: httpx.AsyncClient
) -> None:
    await _go_to_salla_and_back(salla_app)
    account = await salla_app.get("/account")
    assert "Set a password" in account.text
    assert 'name="current_password"' not in account.text

    saved = await salla_app.post(
        "/account/password",
        data={"new_password": "my own store passphrase"},
        headers={"x-csrftoken": salla_app.cookies["csrftoken"]},
    )

    assert saved.status_code == 200
    await salla_app.post("/logout", headers={"x-csrftoken": salla_app.cookies["csrftoken"]})
    await salla_app.get("/login")
    login = await salla_app.post(
        "/login",
        data={"email": "owner@noor.sa", "password": "my own store passphrase", "next": ""},
        headers={"x-csrftoken": salla_app.cookies["csrftoken"]},
    )
    assert login.status_code in (302, 303)


async def test_it_says_so_when_salla_is_not_configured(settings: Settings) -> None:
    from app.factory import create_app
    from tests.conftest import app_client

    async with app_client(create_app(settings)) as http:
        answer = await http.get("/oauth/salla/start")
        login = await http.get("/login")

    assert answer.status_code == 503
    assert "not configured" in answer.text
    assert "/oauth/salla/start" not in login.text


async def test_the_login_page_offers_salla_when_it_is_configured(
    salla_settings: Settings, salla_app: httpx.AsyncClient
) -> None:
    login = await salla_app.get("/login")

    assert "/oauth/salla/start" in login.text
    assert STATE_KEY not in login.text


async def test_a_wrong_client_secret_is_our_problem_and_says_so(sandbox: Sandbox, salla_settings: Settings) -> None:
    import dataclasses

    from app.factory import create_app
    from tests.conftest import app_client

    wrong = dataclasses.replace(
        salla_settings, salla=dataclasses.replace(salla_settings.salla, client_secret="not-the-apps-secret")
    )
    async with app_client(create_app(wrong)) as http:
        back = await _go_to_salla_and_back(http)

    assert back.status_code == 502
    assert "Salla refused" in back.text
    assert await registry_rows("SELECT id FROM salla_stores") == []
