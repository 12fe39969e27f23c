"""Fixtures for every Salla test: the sandbox (a faithful local Salla), served over HTTP, and Wosool's settings
pointed at it.

- ``sandbox``: a `Sandbox` with the team's credentials and one small store, merchant ``SANDBOX_MERCHANT`` (1234,
  "noor-store", plan pro): 40 customers, 20 products, 60 orders.
- ``sandbox_url``: that sandbox served by uvicorn in the test's event loop (``http://127.0.0.1:PORT``).
- ``salla_settings``: the ``settings`` fixture with ``salla`` pointed at the sandbox (client id/secret, webhook
  secret and strategy, accounts and API URLs). Tests that need the app use ``create_app(salla_settings)``.
- ``salla_app``: the Wosool app in this process with ``salla_settings`` (an httpx client on it).
- ``sandbox_api``: an httpx client on the sandbox's Admin API with a fresh access token of merchant 1234.

`Receiver` is a webhook endpoint in the test's process: ``sandbox.install(..., transport=httpx.ASGITransport(
app=receiver))`` records exactly what Salla would have posted.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.factory import create_app
from app.salla.sandbox import Sandbox, serve_sandbox
from app.settings import Settings
from tests.conftest import app_client

SANDBOX_MERCHANT = 1234
SANDBOX_CLIENT_ID = "sandbox-client"
SANDBOX_CLIENT_SECRET = "sandbox-secret"
SANDBOX_WEBHOOK_SECRET = "sandbox-webhook-secret"


def make_sandbox(**options: object) -> Sandbox:
    """The fixture's sandbox; ``options`` go to `Sandbox` (``clock=FakeClock()``, ``webhook_strategy="token"``...)."""
    sandbox = Sandbox(
        client_id=SANDBOX_CLIENT_ID,
        client_secret=SANDBOX_CLIENT_SECRET,
        webhook_secret=SANDBOX_WEBHOOK_SECRET,
        **options,  # type: ignore[arg-type]
    )
    sandbox.add_store(
        merchant_id=SANDBOX_MERCHANT,
        username="noor-store",
        name="متجر نور",
        owner_email="owner@noor.sa",
        plan="pro",
        customers=40,
        products=20,
        orders=60,
        seed=1,
    )
    return sandbox


class Receiver:
    """A webhook endpoint in this process: records (path, raw body, lower-cased headers) and answers ``status``."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.received: list[tuple[str, bytes, dict[str, str]]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {name.decode().lower(): value.decode() for name, value in scope["headers"]}
        self.received.append((scope["path"], body, headers))
        await send({"type": "http.response.start", "status": self.status, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture
def sandbox() -> Sandbox:
    return make_sandbox()


@pytest.fixture
async def sandbox_url(sandbox: Sandbox) -> AsyncIterator[str]:
    async with serve_sandbox(sandbox) as base_url:
        yield base_url


@pytest.fixture
def salla_settings(settings: Settings, sandbox: Sandbox, sandbox_url: str) -> Settings:
    return dataclasses.replace(settings, salla=sandbox.salla_settings(sandbox_url, settings.salla))


@pytest.fixture
async def salla_app(salla_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The Wosool app (in this process) with the Salla settings pointed at the sandbox."""
    async with app_client(create_app(salla_settings)) as http:
        yield http


@pytest.fixture
async def sandbox_api(sandbox: Sandbox, sandbox_url: str) -> AsyncIterator[httpx.AsyncClient]:
    token = sandbox.issue_tokens(SANDBOX_MERCHANT)["access_token"]
    async with httpx.AsyncClient(
        base_url=sandbox.api_url(sandbox_url), headers={"Authorization": f"Bearer {token}"}
    ) as client:
        yield client
