"""A delivery whose handler fails is retried, then left ``failed`` with the reason; an operator (X-Admin-Key) lists
failed deliveries and replays one, which then applies."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from saq import Queue

from app.admin import audit
from app.factory import create_app
from app.registry import database as registry
from app.salla import inbox
from app.salla.events import EventContext, WebhookEvent, on
from app.settings import Settings
from tests.conftest import app_client
from tests.salla.support import running_worker, until

SECRET = "whsec-replay-0123456789abcdef"
FLAKY_EVENT = "test.flaky"
ADMIN = {"X-Admin-Key": Settings().super_admin_key}


class Flaky:
    """How many more times the test handler fails, and how often it succeeded."""

    failures_left = 0
    applied = 0


@on(FLAKY_EVENT)
async def flaky_handler(event: WebhookEvent, context: EventContext) -> None:
    if Flaky.failures_left > 0:
        Flaky.failures_left -= 1
        raise RuntimeError(f"the CRM of store {event.merchant_id} is unreachable")
    Flaky.applied += 1


@pytest.fixture(autouse=True)
def reset_flaky() -> None:
    Flaky.failures_left = 0
    Flaky.applied = 0


def salla_body(n: int = 0) -> bytes:
    return json.dumps({"event": FLAKY_EVENT, "merchant": 777, "data": {"n": n, "token": "do-not-show"}}).encode()


def signed(body: bytes) -> dict[str, str]:
    return {"X-Salla-Signature": hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()}


@pytest.fixture
def salla_settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, salla=dataclasses.replace(settings.salla, webhook_secret=SECRET))


@pytest.fixture
async def http(salla_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(create_app(salla_settings)) as client:
        yield client


@pytest.fixture
def context(salla_settings: Settings, redis: Redis, queue: Queue) -> EventContext:
    return EventContext(settings=salla_settings, redis=redis, queue=queue)


async def deliver(http: httpx.AsyncClient, n: int = 0) -> int:
    body = salla_body(n)
    response = await http.post("/webhooks/salla", content=body, headers=signed(body))
    assert response.status_code == 200, response.text
    return int(response.json()["id"])


async def row(inbox_id: int) -> dict[str, Any]:
    async with registry.engine().pool.acquire() as connection:
        found = await connection.fetchrow(
            "SELECT status, attempts, last_error, processed_at FROM salla_webhooks WHERE id = $1", inbox_id
        )
    assert found is not None
    return dict(found)


async def test_it_keeps_a_failing_delivery_pending_then_gives_up_with_the_reason(
    http: httpx.AsyncClient, context: EventContext
) -> None:
    inbox_id = await deliver(http)
    Flaky.failures_left = 100

    outcomes = [await inbox.apply(inbox_id, context) for _ in range(inbox.MAX_ATTEMPTS)]
    after_giving_up = await inbox.apply(inbox_id, context)

    assert outcomes == ["retry"] * (inbox.MAX_ATTEMPTS - 1) + ["failed"]
    assert after_giving_up == "skipped"
    failed = await row(inbox_id)
    assert failed["status"] == "failed"
    assert failed["attempts"] == inbox.MAX_ATTEMPTS
    assert failed["last_error"] == "RuntimeError: the CRM of store 777 is unreachable"
    assert failed["processed_at"] is None
    assert Flaky.applied == 0


async def test_the_worker_retries_a_failed_attempt(http: httpx.AsyncClient, salla_settings: Settings) -> None:
    Flaky.failures_left = 1

    async with running_worker(salla_settings):
        inbox_id = await deliver(http)
        await until(lambda: _status_is(inbox_id, "done"), "the retry succeeded")

    done = await row(inbox_id)
    assert done["attempts"] == 1
    assert done["last_error"] == ""
    assert Flaky.applied == 1


async def test_an_operator_lists_failed_deliveries_and_replays_one(
    http: httpx.AsyncClient, salla_settings: Settings, context: EventContext
) -> None:
    healthy = await deliver(http, n=1)
    broken = await deliver(http, n=2)
    await inbox.apply(healthy, context)
    Flaky.failures_left = 100
    for _ in range(inbox.MAX_ATTEMPTS):
        await inbox.apply(broken, context)

    listed = await http.get("/api/admin/salla/webhooks", params={"status": "failed"}, headers=ADMIN)

    assert listed.status_code == 200, listed.text
    [entry] = listed.json()["webhooks"]
    assert entry["id"] == broken
    assert entry["event"] == FLAKY_EVENT
    assert entry["merchant_id"] == 777
    assert entry["status"] == "failed"
    assert entry["attempts"] == inbox.MAX_ATTEMPTS
    assert "unreachable" in entry["last_error"]
    assert entry["received_at"]
    assert "body" not in entry
    assert "do-not-show" not in listed.text

    Flaky.failures_left = 0  # the operator fixed what was wrong
    async with running_worker(salla_settings):
        replayed = await http.post(f"/api/admin/salla/webhooks/{broken}/replay", headers=ADMIN)
        assert replayed.status_code == 202, replayed.text
        assert replayed.json()["status"] == "pending"
        assert replayed.json()["attempts"] == 0
        await until(lambda: _status_is(broken, "done"), "the replayed delivery is applied")

    assert (await row(broken))["last_error"] == ""
    still_failed = await http.get("/api/admin/salla/webhooks?status=failed", headers=ADMIN)
    assert still_failed.json()["webhooks"] == []
    [entry_of_audit] = [entry for entry in await audit.entries_for("") if entry.action == "salla.webhook.replayed"]
    assert entry_of_audit.actor == "operator"
    assert entry_of_audit.details["inbox_id"] == broken
    assert entry_of_audit.details["previous_status"] == "failed"


async def test_the_operator_api_refuses_a_missing_or_wrong_key(http: httpx.AsyncClient) -> None:
    inbox_id = await deliver(http)
    wrong_keys: list[dict[str, str]] = [
        {},
        {"X-Admin-Key": ""},
        {"X-Admin-Key": "wrong-key"},
        {"X-Admin-Key": ADMIN["X-Admin-Key"] + "x"},
        {"Authorization": f"Bearer {ADMIN['X-Admin-Key']}"},
    ]

    for headers in wrong_keys:
        listed = await http.get("/api/admin/salla/webhooks", headers=headers)
        replayed = await http.post(f"/api/admin/salla/webhooks/{inbox_id}/replay", headers=headers)

        assert listed.status_code == replayed.status_code == 401, headers
        assert "X-Admin-Key" in replayed.json()["detail"]
    assert (await row(inbox_id))["attempts"] == 0
    assert [entry for entry in await audit.entries_for("") if entry.action == "salla.webhook.replayed"] == []


async def test_the_operator_api_explains_bad_requests(http: httpx.AsyncClient) -> None:
    bad_status = await http.get("/api/admin/salla/webhooks", params={"status": "lost"}, headers=ADMIN)
    unknown = await http.post("/api/admin/salla/webhooks/987654/replay", headers=ADMIN)
    too_big = await http.post(f"/api/admin/salla/webhooks/{2**70}/replay", headers=ADMIN)

    assert bad_status.status_code == 400
    assert "pending, done, ignored, failed" in bad_status.json()["detail"]
    assert unknown.status_code == too_big.status_code == 404


async def _status_is(inbox_id: int, status: str) -> bool:
    return (await row(inbox_id))["status"] == status
