"""The browser harness itself: it must notice what a person would see go wrong."""

from __future__ import annotations

import subprocess
import sys

import pytest
from playwright.async_api import Browser

from app.settings import PROJECT_ROOT
from tests.browser import watch_page


@pytest.mark.browser
async def test_it_notices_console_errors_page_errors_and_failed_requests(browser: Browser) -> None:
    page = await browser.new_page()
    problems = watch_page(page)

    await page.set_content(
        """
        <script>console.error("boom from the page")</script>
        <script>undefinedFunctionCall()</script>
        <img src="http://127.0.0.1:1/missing.png">
        """
    )
    await page.wait_for_timeout(300)
    await page.close()

    joined = "\n".join(problems.messages)
    assert "console error: boom from the page" in joined
    assert "page error:" in joined
    assert "undefinedFunctionCall" in joined
    assert "request failed: GET http://127.0.0.1:1/missing.png" in joined


@pytest.mark.browser
async def test_a_quiet_page_has_no_problems(browser: Browser) -> None:
    page = await browser.new_page()
    problems = watch_page(page)

    await page.set_content("<p>all is well</p><script>console.log('fine')</script>")
    await page.close()

    assert problems.messages == []


def _run_browser_test_without_chromium(ci: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "WOSOOL_CHROMIUM": "/nonexistent/chromium", "CI": ci}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/test_browser_harness.py::test_a_quiet_page_has_no_problems",
        ],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_without_chromium_browser_tests_skip_loudly_on_a_laptop() -> None:
    result = _run_browser_test_without_chromium(ci="")

    assert result.returncode == 0, result.stdout
    assert "1 skipped" in result.stdout
    assert "Browser tests are NOT running" in result.stdout


def test_without_chromium_browser_tests_fail_under_ci() -> None:
    result = _run_browser_test_without_chromium(ci="true")

    assert result.returncode != 0
    assert "Chromium not found" in result.stdout
