"""Each person's language is remembered on their account (``users.locale``): a new person starts in the browser's
language, the language switch and the profile page change it, and every sign-in, on any browser, applies it."""

from __future__ import annotations

import subprocess

import asyncpg
import pytest
from httpx import AsyncClient
from playwright.async_api import Browser, BrowserContext, Page

from app.accounts import repository
from app.lib.locale import LANGUAGE_COOKIE
from app.settings import Settings
from tests.browser import PageProblems, watch_page
from tests.conftest import World
from tests.people import PASSWORD, sign_in


async def _locale(email: str) -> str:
    user = await repository.user_by_email(email)
    assert user is not None
    return user.locale


async def _sign_up(client: AsyncClient, accept_language: str) -> None:
    await client.get("/signup", headers={"Accept-Language": accept_language})
    response = await client.post(
        "/signup",
        data={"name": "Noor Perfumes", "slug": "noor-perfumes", "email": "owner@noor.example", "password": PASSWORD},
        headers={"x-csrftoken": client.cookies["csrftoken"], "Accept-Language": accept_language},
    )
    assert response.status_code in (302, 303), response.text


async def test_signing_up_from_an_arabic_browser_keeps_arabic(client: AsyncClient, settings: Settings) -> None:
    await _sign_up(client, "ar-SA,ar;q=0.9,en;q=0.5")

    assert await _locale("owner@noor.example") == "ar"
    assert client.cookies[LANGUAGE_COOKIE] == "ar"
    account = await client.get("/account", headers={"Accept-Language": "en"})
    assert '<html lang="ar" dir="rtl">' in account.text


async def test_signing_up_from_an_english_browser_keeps_english(client: AsyncClient, settings: Settings) -> None:
    await _sign_up(client, "en-GB,en;q=0.9")

    assert await _locale("owner@noor.example") == "en"


async def test_signing_in_applies_the_saved_language_whatever_the_browser_says(
    client: AsyncClient, world: World
) -> None:
    alice = await repository.user_by_email("alice@example.com")
    assert alice is not None
    await repository.set_user_locale(alice.id, "ar")
    client.headers["Accept-Language"] = "en-US,en;q=0.9"

    signed_in = await sign_in(client, "alice@example.com")
    account = await client.get("/account")

    assert signed_in.status_code in (302, 303)
    assert client.cookies[LANGUAGE_COOKIE] == "ar"
    assert '<html lang="ar" dir="rtl">' in account.text
    assert "مؤسساتك" in account.text


async def test_a_person_without_a_language_gets_the_browsers_at_first_sign_in(
    client: AsyncClient, world: World
) -> None:
    assert await _locale("bob@example.com") == ""  # added by an owner: nobody chose for him
    client.headers["Accept-Language"] = "ar"

    await sign_in(client, "bob@example.com")

    assert await _locale("bob@example.com") == "ar"
    assert client.cookies[LANGUAGE_COOKIE] == "ar"


async def test_the_language_switch_saves_the_choice_of_whoever_is_signed_in(client: AsyncClient, world: World) -> None:
    await client.get("/language/ar?next=/")  # signed out: only this browser remembers it
    assert await _locale("alice@example.com") == ""
    await sign_in(client, "alice@example.com")
    assert await _locale("alice@example.com") == "ar"  # the first sign-in took this browser's language

    switched = await client.get("/language/en?next=/t/acme/", follow_redirects=False)

    assert switched.status_code in (302, 303)
    assert switched.headers["location"] == "/t/acme/"
    assert await _locale("alice@example.com") == "en"
    assert await _locale("bob@example.com") == ""  # nobody else's


async def test_a_new_browser_speaks_the_language_chosen_on_another(client: AsyncClient, world: World) -> None:
    await sign_in(client, "alice@example.com")
    await client.get("/language/ar?next=/")
    await client.post("/logout", headers={"x-csrftoken": client.cookies["csrftoken"]})
    client.cookies.clear()  # another browser
    client.headers["Accept-Language"] = "en-US"

    await sign_in(client, "alice@example.com")
    home = await client.get("/t/acme/")

    assert '<html lang="ar" dir="rtl">' in home.text


async def test_the_registry_accepts_only_the_languages_wosool_speaks(world: World, settings: Settings) -> None:
    alice = await repository.user_by_email("alice@example.com")
    assert alice is not None

    with pytest.raises(asyncpg.CheckViolationError):
        await repository.set_user_locale(alice.id, "fr")
    assert await _locale("alice@example.com") == ""


async def _browser(browser: Browser, accept_language: str) -> tuple[BrowserContext, Page, PageProblems]:
    context = await browser.new_context(locale=accept_language, extra_http_headers={"Accept-Language": accept_language})
    page = await context.new_page()
    return context, page, watch_page(page)


async def _log_in(page: Page, live_server: str) -> None:
    await page.goto(live_server + "/login")
    await page.fill("input[name=email]", "owner@noor.example")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(live_server + "/account")


@pytest.mark.browser
async def test_a_merchant_keeps_their_language_from_browser_to_browser(
    browser: Browser, live_server: str, live_worker: subprocess.Popen[bytes], settings: Settings
) -> None:
    # An Arabic browser signs up: the CRM speaks Arabic.
    first, page, problems = await _browser(browser, "ar-SA")
    await page.goto(live_server + "/signup")
    assert await page.locator("html").get_attribute("dir") == "rtl"
    await page.fill("input[name=name]", "Noor Perfumes")
    await page.fill("input[name=slug]", "noor-perfumes")
    await page.fill("input[name=email]", "owner@noor.example")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.locator(".app-shell").wait_for(timeout=20_000)  # provisioned: the dashboard's home
    assert await page.locator("html").get_attribute("lang") == "ar"
    assert await page.get_by_role("link", name="الإعدادات").count() == 1
    # They switch to English with the top bar, then log out.
    await page.get_by_role("link", name="English").click()
    await page.wait_for_function("document.documentElement.lang === 'en'")
    await page.get_by_role("button", name="Log out").click()
    await page.wait_for_url(live_server + "/")
    await page.wait_for_load_state("networkidle")  # nothing in flight (the favicon) as it closes
    await first.close()
    assert problems.messages == []

    # Another Arabic browser: after logging in, English, as they chose.
    second, page, problems = await _browser(browser, "ar-SA")
    await page.goto(live_server + "/login")
    assert await page.locator("html").get_attribute("lang") == "ar"  # before: the browser's language
    await _log_in(page, live_server)
    assert await page.locator("html").get_attribute("dir") == "ltr"
    assert await page.locator("h1").inner_text() == "Your organizations"
    # Now Arabic again, and an English browser logs in to Arabic.
    await page.get_by_role("link", name="العربية").click()
    await page.wait_for_function("document.documentElement.lang === 'ar'")
    await page.wait_for_load_state("networkidle")  # nothing in flight (the favicon) as it closes
    await second.close()
    assert problems.messages == []

    third, page, problems = await _browser(browser, "en-US")
    await _log_in(page, live_server)
    assert await page.locator("html").get_attribute("dir") == "rtl"
    assert await page.locator("h1").inner_text() == "مؤسساتك"
    await page.wait_for_load_state("networkidle")  # nothing in flight (the favicon) as it closes
    await third.close()
    assert problems.messages == []
    assert await _locale("owner@noor.example") == "ar"
