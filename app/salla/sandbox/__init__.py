"""A faithful local stand-in for Salla — accounts (OAuth), Admin API v2, rate limits and signed webhooks — for
the tests, the benchmarks and ``wosool dev``. Every behaviour follows shared/reference/salla.md.

    sandbox = Sandbox(client_id="sandbox-client", client_secret="sandbox-secret",
                      webhook_secret="sandbox-webhook-secret", webhook_strategy="signature")
    sandbox.add_store(merchant_id=1234, username="noor-store", name="متجر نور", owner_email="owner@noor.sa",
                      plan="pro", customers=100, products=20, orders=200, seed=1)
    async with serve_sandbox(sandbox) as base_url:
        settings = sandbox.salla_settings(base_url)   # accounts_url=base_url/accounts, api_url=base_url/admin/v2
        await sandbox.install(1234, "http://127.0.0.1:8000/webhooks/salla")

Modules: `data` (generated stores), `tokens` + `accounts` (OAuth), `admin_api`, `ratelimit`, `webhooks`
(emitter), `server` (ASGI app, uvicorn), `sandbox` (the interface).
"""

from __future__ import annotations

from app.salla.sandbox.data import DEFAULT_ANCHOR
from app.salla.sandbox.sandbox import FakeClock, Sandbox, SandboxStats, SandboxStore
from app.salla.sandbox.server import SandboxApp, serve_sandbox, serve_sandbox_in_thread
from app.salla.sandbox.webhooks import Delivery, Webhook

__all__ = [
    "DEFAULT_ANCHOR",
    "Delivery",
    "FakeClock",
    "Sandbox",
    "SandboxApp",
    "SandboxStats",
    "SandboxStore",
    "Webhook",
    "serve_sandbox",
    "serve_sandbox_in_thread",
]
