"""The merchant page shows a store's latest deliveries (never their bodies) and how they stand."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from redis.asyncio import Redis
from saq import Queue

from app.factory import create_app
from app.salla import inbox
from app.salla.events import EventContext, WebhookEvent, on
from app.settings import Settings
from tests.conftest import app_client

SECRET = "whsec-summary-0123456789abcdef"
BROKEN_EVENT = "test.summary.broken"
WORKING_EVENT = "test.summary.working"


@on(BROKEN_EVENT)
async def broken_handler(event: WebhookEvent, context: EventContext) -> None:
    raise LookupError("no such order in the CRM")


@on(WORKING_EVENT)
async def working_handler(event: WebhookEvent, context: EventContext) -> None:
    return None


@pytest.fixture
async def http(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    salla_settings = dataclasses.replace(settings, salla=dataclasses.replace(settings.salla, webhook_secret=SECRET))
    async with app_client(create_app(salla_settings)) as client:
        yield client


async def deliver(http: httpx.AsyncClient, event: str, merchant: int, n: int) -> int:
    body = json.dumps({"event": event, "merchant": merchant, "data": {"n": n, "email": "private@example.com"}}).encode()
    signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    response = await http.post("/webhooks/salla", content=body, headers={"X-Salla-Signature": signature})
    assert response.status_code == 200, response.text
    return int(response.json()["id"])


async def test_it_lists_a_stores_recent_deliveries_and_counts_them_by_status(
    http: httpx.AsyncClient, settings: Settings, redis: Redis, queue: Queue
) -> None:
    context = EventContext(settings=settings, redis=redis, queue=queue)
    done = await deliver(http, WORKING_EVENT, 777, 1)
    failed = await deliver(http, BROKEN_EVENT, 777, 2)
    ignored = await deliver(http, "test.summary.nobody-handles-this", 777, 3)
    pending = await deliver(http, WORKING_EVENT, 777, 4)
    await deliver(http, WORKING_EVENT, 778, 5)  # another store
    await inbox.apply(done, context)
    await inbox.apply(ignored, context)
    for _ in range(inbox.MAX_ATTEMPTS):
        await inbox.apply(failed, context)

    recent = await inbox.recent_webhooks(777)
    latest_two = await inbox.recent_webhooks(777, limit=2)
    counts = await inbox.inbox_counts(777)

    assert [(webhook.id, webhook.status) for webhook in recent] == [
        (pending, "pending"),
        (ignored, "ignored"),
        (failed, "failed"),
        (done, "done"),
    ]
    assert [webhook.id for webhook in latest_two] == [pending, ignored]
    assert recent[3].processed_at is not None
    assert recent[0].processed_at is None
    assert recent[2].last_error == "LookupError: no such order in the CRM"
    assert "private@example.com" not in repr(recent)
    assert (counts.pending, counts.done, counts.ignored, counts.failed, counts.total) == (1, 1, 1, 1, 4)
    assert await inbox.recent_webhooks(779) == []
    assert (await inbox.inbox_counts(779)).total == 0
