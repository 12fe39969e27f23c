from __future__ import annotations

import subprocess

import pytest
from playwright.async_api import Page

from app.settings import Settings
from app.tenancy import repository


@pytest.mark.browser
async def test_a_merchant_signs_up_waits_for_the_crm_and_lands_on_its_home(
    page: Page, live_server: str, live_worker: subprocess.Popen[bytes], settings: Settings
) -> None:
    await page.goto(live_server + "/signup")
    await page.fill("input[name=name]", "Noor Perfumes")
    await page.fill("input[name=slug]", "noor-perfumes")
    await page.fill("input[name=email]", "owner@noor.example")
    await page.fill("input[name=password]", "correct horse battery")
    await page.click("button[type=submit]")

    await page.wait_for_url(live_server + "/t/noor-perfumes/", timeout=20_000)
    # The CRM's home, not the "preparing" page: its key figures, all zero in a new CRM.
    customers = page.locator('[data-figure="customers"] .figure-value')
    await customers.wait_for(timeout=20_000)
    assert await customers.inner_text() == "0"
    await page.get_by_role("heading", name="Recent activity").wait_for()

    tenant = await repository.tenant_by_slug("noor-perfumes")
    assert tenant is not None
    assert tenant.status == "active"
    assert await page.locator("h1").inner_text() == "Noor Perfumes"
    await page.wait_for_load_state("networkidle")  # the home page's scripts, before the server stops


@pytest.mark.browser
async def test_a_mistake_in_the_form_keeps_what_was_typed_and_says_what_is_wrong(page: Page, live_server: str) -> None:
    await page.goto(live_server + "/signup")
    page.problems.allow_status(400)  # type: ignore[attr-defined]
    await page.fill("input[name=name]", "Noor Perfumes")
    await page.fill("input[name=slug]", "admin")
    await page.fill("input[name=email]", "owner@noor.example")
    await page.fill("input[name=password]", "correct horse battery")
    await page.click("button[type=submit]")

    await page.get_by_text("'admin' is reserved").wait_for()
    assert await page.input_value("input[name=name]") == "Noor Perfumes"
    assert await page.input_value("input[name=email]") == "owner@noor.example"
    assert await page.input_value("input[name=password]") == ""
