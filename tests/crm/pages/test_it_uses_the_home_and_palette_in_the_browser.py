"""In Chromium: the palette opens with Ctrl+K on the home, finds a customer as you type and opens the record with the
keyboard; the top bar's search button opens it too and Escape closes it; the home in Arabic reads right to left."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.async_api import Page, expect

from app.crm import records
from app.crm.records import Actor
from app.crm.services import catalogue_of, crm_connection
from app.settings import Settings
from app.tenancy import runtime
from tests.browser import sign_in_browser, use_language
from tests.conftest import World

ALICE = Actor(source="user", id=str(uuid.uuid4()), name="Alice Admin")


async def _customers(settings: Settings, world: World) -> dict[str, str]:
    await runtime.open_pools(settings)  # this process writes to the tenant's database too
    async with crm_connection(world.acme, settings) as connection:
        people = (await catalogue_of(connection, world.acme)).objects["people"]
        ids = {}
        for first, last in (("أحمد", "الغامدي"), ("Sara", "Haddad"), ("Ahmad", "Nasser")):
            record = await records.create_record(connection, people, {"first_name": first, "last_name": last}, ALICE)
            ids[first] = str(record["id"])
        orders = (await catalogue_of(connection, world.acme)).objects["orders"]
        await records.create_record(
            connection, orders, {"reference": "R-1", "total": {"amount": "120.00", "currency": "SAR"},
                                 "ordered_at": "2026-01-01T10:00:00+03:00"}, ALICE,
        )  # fmt: skip
    return ids


@pytest.mark.browser
async def test_ctrl_k_finds_a_customer_and_enter_opens_the_record(
    page: Page, live_server: str, world: World, settings: Settings
) -> None:
    ids = await _customers(settings, world)
    await sign_in_browser(page, live_server, "alice@example.com")
    await page.goto(live_server + "/t/acme/")
    palette, field = page.locator("#palette"), page.locator("#palette-input")

    # The top bar's button opens the palette; Escape closes it.
    await page.click("[data-palette-open]")
    await expect(palette).to_be_visible()
    await expect(field).to_be_focused()
    await page.keyboard.press("Escape")
    await expect(palette).to_be_hidden()

    await page.keyboard.press("Control+k")
    await expect(palette).to_be_visible()
    await page.keyboard.type("احمد")  # without the hamza: the engine normalises the spelling
    options = palette.get_by_role("option")
    await expect(options).to_have_count(1)
    await expect(options.first).to_contain_text("أحمد الغامدي")
    await expect(field).to_have_attribute("aria-expanded", "true")

    await page.keyboard.press("ArrowDown")
    await expect(options.first).to_have_attribute("aria-selected", "true")
    option_id = await options.first.get_attribute("id")
    await expect(field).to_have_attribute("aria-activedescendant", option_id or "?")
    await page.keyboard.press("Enter")

    await page.wait_for_url(f"{live_server}/t/acme/o/people/{ids['أحمد']}")
    await expect(page.locator("h1")).to_contain_text("أحمد الغامدي")  # the record page
    await expect(palette).to_be_hidden()

    # From the record page (a boosted swap), the shortcut still works; Enter with nothing chosen opens the page of
    # every result.
    await page.keyboard.press("Control+k")
    await expect(palette).to_be_visible()
    await field.fill("ahma")
    await expect(palette.get_by_role("option")).to_have_count(1)
    await expect(palette.get_by_role("option").first).to_contain_text("Ahmad Nasser")
    await page.keyboard.press("ArrowDown")
    await page.keyboard.press("ArrowDown")  # wraps round to the first (and only) result
    await expect(palette.get_by_role("option").first).to_have_attribute("aria-selected", "true")
    await page.keyboard.press("ArrowUp")
    await field.fill("sa")
    await expect(palette.get_by_role("option")).to_have_count(1)
    await expect(palette.get_by_role("option").first).to_contain_text("Sara Haddad")
    await expect(field).not_to_have_attribute("aria-activedescendant", re.compile("."))
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"{live_server}/t/acme/search?q=sa")
    await expect(page.get_by_role("link", name="Sara Haddad")).to_be_visible()


@pytest.mark.browser
async def test_the_home_in_arabic_reads_right_to_left(
    page: Page, live_server: str, world: World, settings: Settings
) -> None:
    await _customers(settings, world)
    await sign_in_browser(page, live_server, "alice@example.com")
    await use_language(page, live_server, "ar")
    await page.goto(live_server + "/t/acme/")

    await expect(page.locator("html")).to_have_attribute("dir", "rtl")
    await expect(page.get_by_role("heading", name="الإيرادات")).to_be_visible()
    chart = page.get_by_role("img", name="الإيرادات اليومية خلال آخر 30 يومًا")
    await expect(chart).to_be_visible()
    # Right to left for real: the sidebar is on the right and the newest day's bar is left of the oldest.
    sidebar = await page.locator(".sidebar").bounding_box()
    content = await page.locator("#main").bounding_box()
    assert sidebar is not None
    assert content is not None
    assert sidebar["x"] > content["x"]
    bars = page.locator(".chart-bar")
    await expect(bars).to_have_count(30)
    first, last = await bars.first.bounding_box(), await bars.last.bounding_box()
    assert first is not None
    assert last is not None
    assert last["x"] < first["x"]

    await page.keyboard.press("Control+k")
    await page.keyboard.type("a")
    await expect(page.locator("#palette-results")).to_contain_text("اكتب حرفين أو رقمين على الأقل للبحث.")
    await page.keyboard.type("hmad")
    await expect(page.locator("#palette .palette-group-label")).to_have_text(["العملاء"])


@pytest.mark.browser
async def test_what_is_typed_before_htmx_wires_up_the_palette_is_searched(
    page: Page, live_server: str, world: World, settings: Settings
) -> None:
    """A boosted link swaps the page in, and htmx wires up the new palette a moment later (when the swap settles):
    a fast typist can be quicker. Here the palette is swapped in again with a long settle, and typed into before."""
    await _customers(settings, world)
    await sign_in_browser(page, live_server, "alice@example.com")
    await page.goto(live_server + "/t/acme/")
    await page.evaluate(
        """() => {
            const palette = document.getElementById("palette");
            const html = palette.outerHTML;
            palette.remove();
            htmx.swap(document.body, html, {swapStyle: "beforeend", settleDelay: 1500});
        }"""
    )
    await page.keyboard.press("Control+k")
    await page.keyboard.type("sara")

    await expect(page.locator("#palette").get_by_role("option").first).to_contain_text("Sara Haddad", timeout=10_000)
