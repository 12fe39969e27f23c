"""Lists and boards in Chromium: cards dragged between and within stages (and moved with the keyboard) stay where
they were put; the Arabic list mirrors, edits a cell in place, pages and deletes in bulk. Any console error or
failed request fails the test (the `page` fixture)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from playwright.async_api import Dialog, Page, expect

from app.crm import records
from app.crm.metadata import load_catalogue
from app.crm.records import Actor
from app.crm.services import crm_connection
from app.settings import Settings
from app.tenancy import runtime
from tests.browser import sign_in_browser, use_language
from tests.conftest import World

SYSTEM = Actor(source="system")


@pytest.fixture
async def acme(world: World, settings: Settings) -> AsyncIterator[asyncpg.Connection]:
    await runtime.open_pools(settings)
    async with crm_connection(world.acme, settings) as connection:
        yield connection


async def _create(connection: asyncpg.Connection, object_name: str, *rows: dict[str, Any]) -> list[dict[str, Any]]:
    obj = (await load_catalogue(connection)).objects[object_name]
    return [await records.create_record(connection, obj, row, SYSTEM) for row in rows]


def _cards(page: Page, stage: str) -> Any:
    return page.locator(f'[data-column][data-value="{stage}"] [data-card]')


async def _titles(page: Page, stage: str) -> list[str]:
    return [text.strip() for text in await _cards(page, stage).locator(".board-card-title").all_inner_texts()]


async def _stored(connection: asyncpg.Connection, stage: str) -> list[str]:
    rows = await connection.fetch(
        "SELECT name FROM opportunities WHERE stage = $1 AND deleted_at IS NULL ORDER BY position, created_at, id",
        stage,
    )
    return [row["name"] for row in rows]


@pytest.mark.browser
async def test_deals_dragged_between_and_within_stages_stay_where_they_were_put(
    page: Page, live_server: str, acme: asyncpg.Connection
) -> None:
    await _create(
        acme,
        "opportunities",
        {"name": "Amber", "stage": "new", "amount": {"amount": "100", "currency": "SAR"}},
        {"name": "Basil", "stage": "new"},
        {"name": "Cedar", "stage": "meeting", "amount": {"amount": "40", "currency": "SAR"}},
        {"name": "Dates", "stage": "meeting"},
    )
    await sign_in_browser(page, live_server, "alice@example.com")
    await page.goto(live_server + "/t/acme/o/opportunities/board")
    await expect(_cards(page, "meeting")).to_have_count(2)

    def card(name: str) -> Any:
        return page.locator("[data-card]", has=page.get_by_role("link", name=name, exact=True))

    # Another stage: Amber onto the upper half of Dates, so between Cedar and Dates.
    async with page.expect_response(lambda r: r.url.endswith("/move") and r.status == 200):
        await card("Amber").drag_to(card("Dates"), target_position={"x": 40, "y": 6})
    assert await _titles(page, "meeting") == ["Cedar", "Amber", "Dates"]
    meeting = page.locator('[data-column][data-value="meeting"]')
    await expect(meeting.locator("[data-count]")).to_have_text("3")
    await expect(meeting.locator("[data-sum]")).to_have_text("SAR140.00")
    await expect(page.locator('[data-column][data-value="new"] [data-count]')).to_have_text("1")

    # The same stage: Dates to the top.
    async with page.expect_response(lambda r: r.url.endswith("/move") and r.status == 200):
        await card("Dates").drag_to(card("Cedar"), target_position={"x": 40, "y": 6})
    assert await _titles(page, "meeting") == ["Dates", "Cedar", "Amber"]

    # The keyboard: Basil to "Proposal" with its select, Amber one place up with its button.
    basil = card("Basil")
    await basil.locator("[data-move-select]").select_option("proposal")
    async with page.expect_response(lambda r: r.url.endswith("/move") and r.status == 200):
        await basil.get_by_role("button", name="Move", exact=True).press("Enter")
    await expect(page.locator(".toast", has_text="Moved to Proposal.")).to_be_visible()
    amber_up = card("Amber").get_by_role("button", name="Move up")
    async with page.expect_response(lambda r: r.url.endswith("/move") and r.status == 200):
        await amber_up.focus()
        await page.keyboard.press("Enter")
    assert await _titles(page, "meeting") == ["Dates", "Amber", "Cedar"]

    await page.reload()
    assert await _titles(page, "meeting") == ["Dates", "Amber", "Cedar"]
    assert await _titles(page, "proposal") == ["Basil"]
    assert await _titles(page, "new") == []
    assert await _stored(acme, "meeting") == ["Dates", "Amber", "Cedar"]
    assert await _stored(acme, "proposal") == ["Basil"]


async def _accept(dialog: Dialog) -> None:
    await dialog.accept()


@pytest.mark.browser
async def test_the_arabic_list_mirrors_edits_in_place_pages_and_deletes_in_bulk(
    page: Page, live_server: str, acme: asyncpg.Connection
) -> None:
    people = await _create(acme, "people", *({"first_name": f"عميل {n:02d}", "city": "الرياض"} for n in range(55)))
    by_name = {person["first_name"]: person["id"] for person in people}
    await sign_in_browser(page, live_server, "alice@example.com")
    await use_language(page, live_server, "ar")
    await page.goto(live_server + "/t/acme/o/people?sort=first_name")

    assert await page.get_attribute("html", "dir") == "rtl"
    headers = [text.strip() for text in await page.locator(".record-table thead th").all_inner_texts()]
    assert {"الجوال", "البريد الإلكتروني", "المدينة"} <= set(headers)
    await expect(page.locator("h1")).to_have_text("العملاء")

    # Double-click a cell: it becomes a small form; Enter saves it in place.
    first_row = page.locator(f'tr[data-row="{by_name["عميل 00"]}"]')
    city = first_row.locator('[data-field-slot][data-field="city"]')
    await city.dblclick()
    await city.locator("input[name=city]").fill("جدة")
    await city.locator("input[name=city]").press("Enter")
    await expect(city).to_contain_text("جدة")
    await expect(city.locator("form")).to_have_count(0)
    obj = (await load_catalogue(acme)).objects["people"]
    assert (await records.get_record(acme, obj, uuid.UUID(by_name["عميل 00"])))["city"] == "جدة"

    # Select two rows and delete them.
    page.on("dialog", _accept)
    for name in ("عميل 01", "عميل 02"):
        await page.locator(f'tr[data-row="{by_name[name]}"] [data-row-select]').check()
    await expect(page.locator("[data-bulk-count]")).to_have_text("المحدد: 2")
    await page.get_by_role("button", name="حذف", exact=True).click()
    await expect(page.locator(".toast", has_text="حُذف 2 سجلان.")).to_be_visible()
    await expect(page.locator(f'tr[data-row="{by_name["عميل 01"]}"]')).to_have_count(0)
    for name in ("عميل 01", "عميل 02"):
        with pytest.raises(records.RecordNotFound):
            await records.get_record(acme, obj, uuid.UUID(by_name[name]))
    await expect(page.locator("[data-bulk-count]")).to_have_text("المحدد: 0")

    # The next page swaps the rows only and puts its URL in the address bar.
    await page.get_by_role("link", name="الصفحة التالية").click()
    await expect(page.locator(f'tr[data-row="{by_name["عميل 54"]}"]')).to_have_count(1)
    assert "cursor=" in page.url
    assert await page.locator("tbody#list-rows tr").count() == 3  # 53 left: 50, then 3
