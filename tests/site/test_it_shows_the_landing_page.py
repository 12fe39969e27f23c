from __future__ import annotations

import pytest
from httpx import AsyncClient
from playwright.async_api import Browser, Page

from tests.browser import watch_page


async def test_it_explains_wosool_and_links_to_sign_up_and_log_in(client: AsyncClient) -> None:
    response = await client.get("/")

    assert response.status_code == 200
    assert '<html lang="en" dir="ltr">' in response.text
    assert "Salla" in response.text
    assert 'href="/signup"' in response.text
    assert 'href="/login"' in response.text


async def test_it_speaks_arabic_right_to_left_to_an_arabic_browser(client: AsyncClient) -> None:
    response = await client.get("/", headers={"Accept-Language": "ar-SA,ar;q=0.9,en;q=0.5"})

    assert '<html lang="ar" dir="rtl">' in response.text
    assert "سلة" in response.text


async def test_the_language_switch_is_remembered(client: AsyncClient) -> None:
    switched = await client.get("/language/ar?next=/", follow_redirects=False)
    page = await client.get("/", headers={"Accept-Language": "en"})

    assert switched.status_code in (302, 303)
    assert switched.headers["location"] == "/"
    assert 'dir="rtl"' in page.text


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example"])
async def test_the_language_switch_never_redirects_off_site(client: AsyncClient, target: str) -> None:
    response = await client.get("/language/en", params={"next": target}, follow_redirects=False)

    assert response.headers["location"] == "/"


@pytest.mark.browser
async def test_a_visitor_sees_a_styled_page_and_can_switch_to_arabic(page: Page, live_server: str) -> None:
    await page.goto(live_server + "/")

    assert await page.locator("html").get_attribute("dir") == "ltr"
    sign_up = page.locator('main a[href="/signup"]').first
    assert await sign_up.is_visible()
    assert "Create your CRM" in await sign_up.inner_text()
    assert await page.evaluate("() => !!window.htmx && htmx.version.startsWith('2.')")
    # Pico CSS is applied: the page column is capped, which an unstyled page is not.
    styled = await page.evaluate("() => getComputedStyle(document.querySelector('main')).maxWidth !== 'none'")
    assert styled

    await page.get_by_role("link", name="العربية").click()
    await page.wait_for_url(live_server + "/")

    assert await page.locator("html").get_attribute("dir") == "rtl"
    assert await page.locator("html").get_attribute("lang") == "ar"


@pytest.mark.browser
async def test_a_missing_page_shows_a_friendly_error_without_script_errors(browser: Browser, live_server: str) -> None:
    context = await browser.new_context(locale="ar-SA", extra_http_headers={"Accept-Language": "ar"})
    page = await context.new_page()
    problems = watch_page(page)
    problems.allow_status(404)

    response = await page.goto(live_server + "/no-such-page")

    assert response is not None
    assert response.status == 404
    assert await page.locator("html").get_attribute("dir") == "rtl"
    assert await page.get_by_role("link").count() > 0
    await context.close()
    assert problems.messages == []
