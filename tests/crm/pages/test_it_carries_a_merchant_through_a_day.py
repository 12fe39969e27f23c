"""The whole day of a new merchant, in one Chromium session against real processes (web and worker): sign up, wait
for the CRM, add a customer, find it with the palette, add a note and a task, move a deal on the board and find it
there after a reload, import a CSV with one bad row and read the report, export the view, switch to Arabic.
Then the main pages in both languages, each saved as a screenshot in test-artifacts/screenshots/.
Any console error or failed request fails the test (the `page` fixture)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from app.crm import records
from app.crm.records import Actor
from app.crm.services import catalogue_of, crm_connection
from app.settings import Settings
from app.tenancy import repository, runtime
from tests.browser import sign_in_browser, use_language
from tests.conftest import World

SCREENSHOTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "screenshots"
CSV_WITH_ONE_BAD_ROW = (
    "First name,Last name,E-mail\nHuda,Saleh,huda@example.com\nOmar,Faris,not-an-address\nLina,Aziz,lina@example.com\n"
)


@pytest.mark.browser
async def test_a_new_merchant_works_through_a_day_in_the_crm(
    page: Page, live_server: str, live_worker: subprocess.Popen[bytes], settings: Settings, tmp_path: Path
) -> None:
    # Sign up and wait for the CRM.
    await page.goto(live_server + "/signup")
    await page.fill("input[name=name]", "Layali Sweets")
    await page.fill("input[name=slug]", "layali")
    await page.fill("input[name=email]", "owner@layali.example")
    await page.fill("input[name=password]", "correct horse battery")
    await page.click("button[type=submit]")
    await page.wait_for_url(live_server + "/t/layali/", timeout=20_000)
    await expect(page.get_by_role("heading", name="Recent activity")).to_be_visible(timeout=20_000)

    # A customer, from the sidebar to the list to the form.
    await page.get_by_role("link", name="Customers", exact=True).click()
    await page.wait_for_url(re.compile(r".*/t/layali/o/people$"))
    await page.get_by_role("button", name="New Customer").click()
    await page.fill("#f-first_name", "Sara")
    await page.fill("#f-last_name", "Al-Harbi")
    await page.fill("#f-email-primary", "sara@layali.example")
    await page.get_by_role("button", name="Create").click()
    await expect(page.locator("h1")).to_have_text("Sara Al-Harbi")

    # Found again with the palette, from the home page.
    await page.get_by_role("link", name="Home", exact=True).click()
    await page.wait_for_url(live_server + "/t/layali/")
    await page.keyboard.press("Control+k")
    await expect(page.locator("#palette")).to_be_visible()
    await page.keyboard.type("sara")
    await expect(page.locator("#palette").get_by_role("option").first).to_contain_text("Sara Al-Harbi")
    await page.keyboard.press("ArrowDown")
    await page.keyboard.press("Enter")
    await expect(page.locator("h1")).to_have_text("Sara Al-Harbi")

    # A note and a task on her record; the task completed in place.
    await page.fill("#new-note-body", "Orders kunafa every Thursday")
    await page.get_by_role("button", name="Add note").click()
    await expect(page.locator(".note-list .note")).to_contain_text("Orders kunafa every Thursday")
    await page.fill("#new-task-title", "Call about the Eid order")
    await page.get_by_role("button", name="Add task").click()
    task = page.locator(".task-list .task", has_text="Call about the Eid order")
    await task.get_by_role("checkbox").check()
    await expect(page.locator(".task-list .task.task-done", has_text="Call about the Eid order")).to_be_visible()
    await expect(page.locator(".toast", has_text="Task completed.")).to_be_visible()
    await page.wait_for_load_state("networkidle")  # the timeline refreshes itself after the change

    # A deal, moved to another stage on the board, still there after a reload.
    await page.goto(live_server + "/t/layali/o/opportunities/new")
    await page.fill("#f-name", "Eid trays for Sara")
    await page.select_option("#f-stage", "new")
    await page.get_by_role("button", name="Create").click()
    await expect(page.locator("h1")).to_have_text("Eid trays for Sara")
    await page.set_viewport_size({"width": 1920, "height": 1000})  # every stage in view: a drag needs both ends
    await page.goto(live_server + "/t/layali/o/opportunities/board")
    deal = page.locator("[data-card]", has=page.get_by_role("link", name="Eid trays for Sara"))
    meeting = page.locator('[data-column][data-value="meeting"]')
    async with page.expect_response(lambda r: r.url.endswith("/move") and r.status == 200):
        await deal.drag_to(meeting)
    await page.reload()
    await expect(meeting.locator("[data-card]", has_text="Eid trays for Sara")).to_be_visible()

    # A CSV with one bad row: the good rows arrive, the report names the bad one.
    csv_file = tmp_path / "customers.csv"
    csv_file.write_text(CSV_WITH_ONE_BAD_ROW, encoding="utf-8")
    await page.get_by_role("link", name="Import", exact=True).click()
    await page.select_option("#import-object", "people")
    await page.set_input_files("#import-file", str(csv_file))
    await page.get_by_role("button", name="Upload and continue").click()
    await page.get_by_label("Import the valid rows and skip the others").check()
    await page.get_by_role("button", name="Preview").click()
    await expect(page.locator("tr.import-line-fail")).to_have_count(1)
    await page.get_by_role("button", name=re.compile(r"^Import 3 rows$")).click()
    await expect(page.get_by_text("The import has finished.").first).to_be_visible(timeout=20_000)
    await expect(page.locator("[data-count=created]")).to_have_text("2")
    await expect(page.get_by_text("not-an-address").first).to_be_visible()

    # The customers' view, exported and downloaded.
    await page.goto(live_server + "/t/layali/o/people")
    await expect(page.get_by_role("link", name="Huda Saleh")).to_be_visible()
    await page.get_by_role("button", name="Export this view").click()
    download_link = page.get_by_role("button", name="Download the CSV file")
    await expect(download_link).to_be_visible(timeout=20_000)
    async with page.expect_download() as download_info:
        await download_link.click()
    exported = (await (await download_info.value).path()).read_text(encoding="utf-8-sig")
    assert "sara@layali.example" in exported
    assert "huda@example.com" in exported
    assert "not-an-address" not in exported

    # Arabic: the same CRM, right to left.
    await page.goto(live_server + "/t/layali/o/people")
    await page.get_by_role("link", name="العربية").click()
    await expect(page.locator("html")).to_have_attribute("dir", "rtl")
    await expect(page.locator(".sidebar").get_by_role("link", name="العملاء")).to_be_visible()

    tenant = await repository.tenant_by_slug("layali")
    assert tenant is not None
    await runtime.open_pools(settings)
    async with crm_connection(tenant, settings) as connection:
        catalogue = await catalogue_of(connection, tenant)
        people = await records.list_records(
            connection,
            catalogue.objects["people"],
            filter_text=None,
            sort_text="first_name",
            limit_text=None,
            cursor=None,
            with_total=False,
        )
        deals = await records.list_records(
            connection,
            catalogue.objects["opportunities"],
            filter_text=None,
            sort_text=None,
            limit_text=None,
            cursor=None,
            with_total=False,
        )
    assert [person["first_name"] for person in people.records] == ["Huda", "Lina", "Sara"]
    assert [(deal["name"], deal["stage"]) for deal in deals.records] == [("Eid trays for Sara", "meeting")]


@pytest.mark.browser
@pytest.mark.parametrize("language", ["en", "ar"])
async def test_the_main_pages_render_in_each_language(
    page: Page, live_server: str, world: World, settings: Settings, language: str
) -> None:
    await runtime.open_pools(settings)
    async with crm_connection(world.acme, settings) as connection:
        catalogue = await catalogue_of(connection, world.acme)
        person = await records.create_record(
            connection,
            catalogue.objects["people"],
            {"first_name": "نورة", "last_name": "القحطاني", "city": "الرياض"},
            Actor(source="system"),
        )
        await records.create_record(
            connection,
            catalogue.objects["opportunities"],
            {"name": "Wedding gifts", "stage": "proposal", "amount": {"amount": "2500", "currency": "SAR"}},
            Actor(source="system"),
        )
    await sign_in_browser(page, live_server, "alice@example.com")
    await use_language(page, live_server, language)
    pages = {
        "home": "/t/acme/",
        "customers": "/t/acme/o/people",
        "deals-board": "/t/acme/o/opportunities/board",
        "customer": f"/t/acme/o/people/{person['id']}",
        "new-customer": "/t/acme/o/people/new",
        "import": "/t/acme/import",
        "settings": "/t/acme/settings/objects/people",
    }
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name, path in pages.items():
        await page.goto(live_server + path)
        await expect(page.locator("html")).to_have_attribute("dir", "rtl" if language == "ar" else "ltr")
        await expect(page.locator("html")).to_have_attribute("lang", language)
        await expect(page.locator("#main")).to_be_visible()
        await page.screenshot(path=str(SCREENSHOTS / f"{name}-{language}.png"), full_page=True)
    sidebar = page.locator(".sidebar")
    await expect(sidebar.get_by_role("link", name="العملاء" if language == "ar" else "Customers")).to_be_visible()
