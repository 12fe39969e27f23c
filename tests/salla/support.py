"""What the Salla tests share: delivering the sandbox's webhooks to the app, a real worker in the test's event
loop, and waiting for what the worker does in its own time."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Any

import asyncpg
import httpx

from app.registry import database as registry
from app.salla import store_repository
from app.salla.sandbox import Sandbox
from app.settings import Settings
from app.tenancy import services as tenancy
from app.tenancy.repository import TenantRecord
from tasks.worker import create_worker

__all__ = ["MERCHANT", "deliver", "installed_tenant", "registry_rows", "running_worker", "until"]

MERCHANT = 1234
"""The merchant id of the `sandbox` fixture's store."""


async def deliver(
    http: httpx.AsyncClient,
    sandbox: Sandbox,
    event: str,
    data: dict[str, Any],
    *,
    merchant: int = MERCHANT,
    created_at: datetime | None = None,
) -> httpx.Response:
    """Post one of the sandbox's signed webhooks to ``POST /webhooks/salla``."""
    body, headers = sandbox.webhook(event, merchant, data, created_at=created_at)
    return await http.post("/webhooks/salla", content=body, headers=headers)


@contextlib.asynccontextmanager
async def running_worker(settings: Settings) -> AsyncIterator[None]:
    """The real SAQ worker (tasks.worker) in this event loop. Like ``wosool dev``, it shares the process's registry
    and tenant pools with the app, and closes them when it stops: ask the app for pages inside the block."""
    worker = create_worker(settings, concurrency=4, handle_signals=False)
    running = asyncio.create_task(worker.start())
    try:
        yield
    finally:
        await worker.stop()
        await running


async def until(condition: Callable[[], Awaitable[bool]], what: str, seconds: float = 30.0) -> None:
    """Wait for something the worker does in its own time (a deadline against hanging, not a measurement)."""
    for _ in range(int(seconds / 0.05)):
        if await condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"gave up waiting: {what}")


async def registry_rows(sql: str, *args: Any) -> list[dict[str, Any]]:
    """Rows of the test's registry database (its own connection: a stopped worker closes the shared pool)."""
    connection = await asyncpg.connect(registry.engine().config["dsn"])
    try:
        return [dict(row) for row in await connection.fetch(sql, *args)]
    finally:
        await connection.close()


async def installed_tenant(merchant: int = MERCHANT, seconds: float = 30.0) -> TenantRecord:
    """The store's tenant once it is active."""
    found: list[TenantRecord] = []

    async def active() -> bool:
        store = await store_repository.store_by_merchant(merchant)
        if store is None or store.tenant_id is None:
            return False
        tenant = await tenancy.tenant_by_id(store.tenant_id)
        if tenant is None or tenant.status != "active":
            return False
        found.append(tenant)
        return True

    await until(active, f"store {merchant}'s CRM to be ready", seconds)
    return found[-1]
