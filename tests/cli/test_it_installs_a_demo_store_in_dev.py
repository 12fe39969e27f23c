"""`wosool dev` installs a demo Salla store through the real webhook path on its first start, so a newcomer logs
into a CRM full of customers, products and orders; a second start re-authorises the same store, not a new one."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest
from playwright.async_api import Page, expect

from app.salla.demo import DEMO_EMAIL, DEMO_PASSWORD
from tests.browser import sign_in_browser, use_language
from tests.cli.test_it_runs_for_a_newcomer import DevRun


async def _wait_for_line(run: DevRun, text: str, seconds: float = 90) -> None:
    for _ in range(int(seconds * 10)):
        if text in run.log_path.read_text():
            return
        if run.process.poll() is not None:
            break
        await asyncio.sleep(0.1)
    raise AssertionError(f"`wosool dev` never printed {text!r}:\n{run.log_path.read_text()[-4000:]}")


async def _demo_counts(run: DevRun) -> tuple[int, int]:
    connection = await asyncpg.connect(run.postgres_url())
    try:
        stores = await connection.fetchval("SELECT count(*) FROM salla_stores")
        tenants = await connection.fetchval("SELECT count(*) FROM tenants")
    finally:
        await connection.close()
    return stores, tenants


@pytest.mark.slow
@pytest.mark.browser
async def test_a_newcomer_logs_into_the_demo_store_filled_from_the_sandbox(page: Page, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    run = DevRun(data_dir, tmp_path / "dev-1.log")
    try:
        await run.wait_until_ready()
        await _wait_for_line(run, f"Demo Salla store installed: log in at {run.url}/login as {DEMO_EMAIL}")

        await sign_in_browser(page, run.url, DEMO_EMAIL, DEMO_PASSWORD)
        await page.goto(run.url + "/t/wosool-demo/salla")
        await expect(page.locator('[data-resource="orders"][data-status="done"]')).to_be_visible(timeout=60_000)
        await page.goto(run.url + "/t/wosool-demo/o/people")
        assert await page.locator("tbody tr").count() > 10
        await use_language(page, run.url, "ar")
        await page.goto(run.url + "/t/wosool-demo/salla")
        assert await page.get_attribute("html", "dir") == "rtl"
        await expect(page.locator("h1")).to_have_text("سلة")
        await expect(page.locator('[data-resource="customers"] th')).to_have_text("العملاء")
    finally:
        assert run.interrupt() == 0, run.log_path.read_text()

    again = DevRun(data_dir, tmp_path / "dev-2.log")
    try:
        await again.wait_until_ready()
        await _wait_for_line(again, "Demo Salla store re-authorised")
        assert await _demo_counts(again) == (1, 1)
    finally:
        assert again.interrupt() == 0, again.log_path.read_text()
