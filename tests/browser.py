"""The browser harness: Playwright driving the system Chromium, failing a test on any console error,
page error or failed request."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from playwright.async_api import ConsoleMessage, Page, Request, Response

from tests.people import PASSWORD

__all__ = ["CHROMIUM_FLAGS", "PageProblems", "chromium_path", "sign_in_browser", "use_language", "watch_page"]

# Without the background-networking flags Chromium tries Google's hosts, which this network refuses.
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_path() -> Path:
    return Path(os.environ.get("WOSOOL_CHROMIUM") or "/usr/bin/chromium")


@dataclass
class PageProblems:
    """What went wrong on a page while a test drove it."""

    messages: list[str] = field(default_factory=list)
    allowed_statuses: set[int] = field(default_factory=set)
    """Document statuses a test expects (say 404 when it visits a missing page on purpose)."""

    def allow_status(self, status: int) -> None:
        self.allowed_statuses.add(status)


def watch_page(page: Page) -> PageProblems:
    problems = PageProblems()

    def on_console(message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        text = message.text
        # Chromium echoes an expected error status of the page itself as a console error; that is not a bug.
        if any(f"status of {status}" in text for status in problems.allowed_statuses):
            return
        problems.messages.append(f"console error: {text}")

    def on_page_error(error: Exception) -> None:
        problems.messages.append(f"page error: {error}")

    def on_request_failed(request: Request) -> None:
        # A GET the browser itself gave up because the person moved on (a poll or a lazy count still in flight when
        # the next page loads) is not a failure of the page; anything else is.
        if request.method == "GET" and request.failure == "net::ERR_ABORTED":
            return
        problems.messages.append(f"request failed: {request.method} {request.url} ({request.failure})")

    def on_response(response: Response) -> None:
        if response.status < 400 or response.status in problems.allowed_statuses:
            return
        problems.messages.append(f"HTTP {response.status}: {response.request.method} {response.url}")

    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    page.on("requestfailed", on_request_failed)
    page.on("response", on_response)
    return problems


async def sign_in_browser(page: Page, base_url: str, email: str, password: str = PASSWORD) -> None:
    """Log ``email`` in through the real log-in page (tests/people.py's password by default)."""
    await page.goto(base_url + "/login")
    await page.fill("input[name=email]", email)
    await page.fill("input[name=password]", password)
    await page.click("button[type=submit]")
    await page.wait_for_url(lambda url: "/login" not in url)


async def use_language(page: Page, base_url: str, code: str) -> None:
    """Switch the page's language the way a person does (the language link remembers it)."""
    await page.goto(f"{base_url}/language/{code}?next=/")
