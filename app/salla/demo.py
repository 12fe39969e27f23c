"""The demo store of ``wosool dev``: the Salla sandbox runs in the same process and installs a store through the
real webhook path (``app.installed`` + ``app.store.authorize`` → inbox → jobs → a provisioned CRM → a full sync),
so a newcomer logs into a CRM full of customers, products and orders.

Used only when no real Salla app is configured (SALLA_CLIENT_ID unset): then the Salla settings point at the
sandbox. On every start the sandbox re-sends ``app.store.authorize`` (as Salla does on each app update), because
its tokens live only as long as the process.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import structlog

from app.accounts import repository as people
from app.accounts import services as accounts
from app.salla import store_repository
from app.salla.sandbox import Sandbox, serve_sandbox
from app.settings import Settings

__all__ = [
    "DEMO_EMAIL",
    "DEMO_MERCHANT_ID",
    "DEMO_PASSWORD",
    "DemoStore",
    "demo_owner_exists",
    "demo_sandbox",
    "give_demo_owner_a_password",
    "install_demo_store",
    "uses_sandbox",
]

log = structlog.get_logger("wosool.salla.demo")

DEMO_MERCHANT_ID = 1_000_001
DEMO_EMAIL = "demo@wosool.dev"
DEMO_PASSWORD = "wosool-demo-store"  # noqa: S105 (a development-only demo login, printed on purpose)
_CLIENT_ID = "wosool-dev"
_CLIENT_SECRET = "wosool-dev-client-secret"  # noqa: S105 (the in-process sandbox's, not a real Salla app's)
_WEBHOOK_SECRET = "wosool-dev-webhook-secret"  # noqa: S105


@dataclass(frozen=True)
class DemoStore:
    sandbox: Sandbox
    settings: Settings
    """The settings with the Salla URLs and secrets of the in-process sandbox."""


def uses_sandbox(settings: Settings) -> bool:
    return not settings.salla.client_id


@asynccontextmanager
async def demo_sandbox(settings: Settings, *, host: str = "127.0.0.1") -> AsyncIterator[DemoStore]:
    """Serve the sandbox with the demo store for as long as the block runs."""
    sandbox = Sandbox(
        client_id=_CLIENT_ID,
        client_secret=_CLIENT_SECRET,
        webhook_secret=settings.salla.webhook_secret or _WEBHOOK_SECRET,
        webhook_strategy=settings.salla.webhook_strategy,
    )
    sandbox.add_store(
        merchant_id=DEMO_MERCHANT_ID,
        username="wosool-demo",
        name="متجر وصول التجريبي",
        owner_email=DEMO_EMAIL,
        plan="pro",
        customers=600,
        products=80,
        orders=1500,
        seed=2026,
        anchor=time.time(),  # its history ends today, so the home page's last 30 days are full
    )
    async with serve_sandbox(sandbox, host=host, port=0) as base_url:
        salla = dataclasses.replace(
            settings.salla,
            client_id=_CLIENT_ID,
            client_secret=_CLIENT_SECRET,
            webhook_secret=settings.salla.webhook_secret or _WEBHOOK_SECRET,
            accounts_url=sandbox.accounts_url(base_url),
            api_url=sandbox.api_url(base_url),
        )
        yield DemoStore(sandbox=sandbox, settings=dataclasses.replace(settings, salla=salla))


async def install_demo_store(demo: DemoStore, app_url: str) -> bool:
    """Install (first start) or re-authorise (later starts) the demo store through ``POST /webhooks/salla``.
    Returns True when it was installed now for the first time."""
    webhook_url = f"{app_url}/webhooks/salla"
    first_time = await store_repository.store_by_merchant(DEMO_MERCHANT_ID) is None
    if first_time:
        await demo.sandbox.install(DEMO_MERCHANT_ID, webhook_url)
    else:
        body, headers = demo.sandbox.webhook(
            "app.store.authorize", DEMO_MERCHANT_ID, demo.sandbox.issue_tokens(DEMO_MERCHANT_ID)
        )
        await demo.sandbox.deliver(webhook_url, body, headers)
    log.info("demo store sent to the webhook", first_time=first_time)
    return first_time


async def demo_owner_exists() -> bool:
    return await people.user_by_email(DEMO_EMAIL) is not None


async def give_demo_owner_a_password() -> None:
    """The demo login printed by ``wosool dev`` (a store owner made by an install has no password)."""
    user = await people.user_by_email(DEMO_EMAIL)
    if user is not None and not user.password_hash:
        await accounts.set_password(user.id, new_password=DEMO_PASSWORD)
