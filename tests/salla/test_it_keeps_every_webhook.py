"""Nothing answered 200 is lost, nothing is applied twice, and nothing bad is stored: bad bodies get a clear 4xx,
repeats are one row and one effect, and deliveries whose jobs Redis lost are found again by the sweeper."""

from __future__ import annotations

import asyncio
import contextlib
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
from saq.job import Job, Status

from app.factory import create_app
from app.registry import database as registry
from app.salla.events import EventContext, WebhookEvent, on
from app.salla.tables import SallaWebhook
from app.salla.webhook_routes import MAX_BODY_BYTES
from app.settings import Settings
from tests.conftest import app_client
from tests.salla.support import running_worker, until

SECRET = "whsec-keep-0123456789abcdef"
COUNTER_EVENT = "test.counter"


@on(COUNTER_EVENT)
async def count_application(event: WebhookEvent, context: EventContext) -> None:
    """Counts every time it is applied: a second application of one delivery would show as a second row."""
    await SallaWebhook.raw(
        "INSERT INTO test_webhook_effects (n, inbox_id) VALUES ({}, {})", event.data["n"], event.inbox_id
    )


def salla_body(event: str = COUNTER_EVENT, n: int = 0, merchant: Any = 555) -> bytes:
    envelope = {"event": event, "merchant": merchant, "created_at": "2026-11-27T10:00:00Z", "data": {"n": n}}
    return json.dumps(envelope).encode()


def signed(body: bytes | str) -> dict[str, str]:
    raw = body.encode() if isinstance(body, str) else body
    return {"X-Salla-Signature": hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()}


@pytest.fixture
def salla_settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, salla=dataclasses.replace(settings.salla, webhook_secret=SECRET))


@pytest.fixture
async def webhooks(salla_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(create_app(salla_settings)) as http:
        await SallaWebhook.raw("CREATE TABLE test_webhook_effects (n integer NOT NULL, inbox_id bigint NOT NULL)")
        yield http


async def fetch(sql: str, *args: Any) -> list[dict[str, Any]]:
    async with registry.engine().pool.acquire() as connection:
        return [dict(row) for row in await connection.fetch(sql, *args)]


async def count(sql: str, *args: Any) -> int:
    async with registry.engine().pool.acquire() as connection:
        return int(await connection.fetchval(sql, *args))


async def effects_per_n() -> dict[int, int]:
    rows = await fetch("SELECT n, count(*) AS times FROM test_webhook_effects GROUP BY n")
    return {row["n"]: row["times"] for row in rows}


# --- bad input: a clear 4xx, nothing stored ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ('{"merchant": 1, "data": {}}', "no 'event'"),
        ('{"event": 7}', "no 'event'"),
        ('{"event": "   "}', "no 'event'"),
        ('{"event": "' + "x" * 101 + '"}', "longer than 100"),
        ('{"event": "order.created", "merchant": "store-9"}', "'merchant'"),
        ('{"event": "order.created", "merchant": 99999999999999999999}', "'merchant'"),
        ('{"event": "order.created", "merchant": true}', "'merchant'"),
        ('{"event": "order.created", "data": {"note": "\\u0000"}}', "cannot be stored"),
        ("[" * 50_000 + "]" * 50_000, "not valid JSON"),
    ],
    ids=[
        "malformed",
        "array",
        "no event",
        "event not a string",
        "blank event",
        "event too long",
        "merchant not a number",
        "merchant beyond bigint",
        "merchant a boolean",
        "NUL character",
        "nested too deep",
    ],
)
async def test_it_refuses_a_verified_body_that_is_not_an_envelope(
    webhooks: httpx.AsyncClient, body: str, reason: str
) -> None:
    response = await webhooks.post("/webhooks/salla", content=body, headers=signed(body))

    assert response.status_code == 400, response.text
    assert reason in response.json()["detail"]
    assert await count("SELECT count(*) FROM salla_webhooks") == 0


async def test_one_unstorable_body_among_concurrent_deliveries_fails_alone(webhooks: httpx.AsyncClient) -> None:
    good = [salla_body(n=n) for n in range(10)]
    bad = b'{"event": "order.created", "data": {"note": "\\u0000"}}'

    responses = await asyncio.gather(
        *(webhooks.post("/webhooks/salla", content=body, headers=signed(body)) for body in [*good[:5], bad, *good[5:]])
    )

    assert [response.status_code for response in responses] == [200] * 5 + [400] + [200] * 5
    assert await count("SELECT count(*) FROM salla_webhooks") == 10
    assert await count("SELECT count(DISTINCT id) FROM salla_webhooks WHERE event = $1", COUNTER_EVENT) == 10


async def test_it_refuses_an_oversized_body_with_a_length(webhooks: httpx.AsyncClient) -> None:
    body = b'{"event": "order.created", "pad": "' + b"x" * MAX_BODY_BYTES + b'"}'

    response = await webhooks.post("/webhooks/salla", content=body, headers=signed(body))

    assert response.status_code == 413
    assert str(MAX_BODY_BYTES) in response.json()["detail"]
    assert await count("SELECT count(*) FROM salla_webhooks") == 0


async def test_it_stops_reading_an_oversized_chunked_body(webhooks: httpx.AsyncClient) -> None:
    chunk = b"x" * 65536
    sent = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'{"event": "order.created", "pad": "'
        for _ in range(10 * MAX_BODY_BYTES // len(chunk)):
            sent += len(chunk)
            yield chunk

    response = await webhooks.post("/webhooks/salla", content=endless(), headers={"X-Salla-Signature": "00" * 32})

    assert response.status_code == 413
    assert sent <= MAX_BODY_BYTES + 2 * len(chunk)  # read up to the limit, then stopped
    assert await count("SELECT count(*) FROM salla_webhooks") == 0


# --- repeats: one row, one effect --------------------------------------------------------------------------------


async def test_it_keeps_one_row_and_applies_once_however_often_salla_repeats_a_delivery(
    webhooks: httpx.AsyncClient, salla_settings: Settings, queue: Queue
) -> None:
    body = salla_body(n=1)

    one_by_one = [(await webhooks.post("/webhooks/salla", content=body, headers=signed(body))) for _ in range(20)]
    at_once = await asyncio.gather(
        *(webhooks.post("/webhooks/salla", content=body, headers=signed(body)) for _ in range(20))
    )

    answers = [response.json() for response in [*one_by_one, *at_once]]
    assert all(response.status_code == 200 for response in [*one_by_one, *at_once])
    assert [answer["status"] for answer in answers].count("stored") == 1
    assert answers[0]["status"] == "stored"
    assert {answer["id"] for answer in answers} == {answers[0]["id"]}
    assert await count("SELECT count(*) FROM salla_webhooks") == 1

    async with running_worker(salla_settings):
        await until(lambda: _status_is(answers[0]["id"], "done"), "the delivery is applied")
        # A repeat after it was applied is still one row, and a stray second job for it changes nothing.
        late = await webhooks.post("/webhooks/salla", content=body, headers=signed(body))
        stray = await queue.enqueue("apply_salla_webhook", inbox_id=answers[0]["id"], timeout=10, retries=1, ttl=0)
        assert stray is not None
        await until(lambda: _job_finished(stray), "the stray job has run")

    assert late.json() == {"status": "duplicate", "id": answers[0]["id"]}
    assert stray.result == "skipped"
    assert await effects_per_n() == {1: 1}


async def test_it_applies_concurrent_distinct_deliveries_each_exactly_once(
    webhooks: httpx.AsyncClient, salla_settings: Settings
) -> None:
    bodies = [salla_body(n=n) for n in range(30)]

    async with running_worker(salla_settings):
        responses = await asyncio.gather(
            *(webhooks.post("/webhooks/salla", content=body, headers=signed(body)) for body in bodies * 2)
        )
        await until(
            lambda: _count_is("SELECT count(*) FROM salla_webhooks WHERE status = 'done'", 30), "all 30 applied"
        )

    assert all(response.status_code == 200 for response in responses)
    assert sorted(response.json()["status"] for response in responses).count("stored") == 30
    assert await effects_per_n() == {n: 1 for n in range(30)}


async def _job_finished(job: Job) -> bool:
    await job.refresh()
    return job.status == Status.COMPLETE


async def _status_is(inbox_id: int, status: str) -> bool:
    return await count("SELECT count(*) FROM salla_webhooks WHERE id = $1 AND status = $2", inbox_id, status) == 1


async def _count_is(sql: str, expected: int) -> bool:
    return await count(sql) == expected


# --- events nobody handles ---------------------------------------------------------------------------------------


async def test_it_stores_and_acknowledges_an_event_it_does_not_act_on(
    webhooks: httpx.AsyncClient, salla_settings: Settings
) -> None:
    body = salla_body(event="brand.created.test-only")

    response = await webhooks.post("/webhooks/salla", content=body, headers=signed(body))
    async with running_worker(salla_settings):
        await until(lambda: _status_is(response.json()["id"], "ignored"), "the unknown event is marked ignored")

    assert response.status_code == 200
    assert response.json()["status"] == "stored"
    [row] = await fetch("SELECT event, status, attempts, processed_at FROM salla_webhooks")
    assert row["event"] == "brand.created.test-only"
    assert row["attempts"] == 0
    assert row["processed_at"] is not None


# --- Redis trouble: PostgreSQL keeps the truth -------------------------------------------------------------------


async def test_it_answers_200_while_redis_is_down_and_the_sweeper_enqueues_it_later(
    settings: Settings, salla_settings: Settings, queue: Queue
) -> None:
    app = create_app(salla_settings)
    async with app_client(app) as http:
        await SallaWebhook.raw("CREATE TABLE test_webhook_effects (n integer NOT NULL, inbox_id bigint NOT NULL)")
        working_queue = app.state.queue
        app.state.queue = Queue.from_url("redis://127.0.0.1:1/0", name=settings.queue_name)  # nothing listens
        try:
            body = salla_body(n=7)
            response = await http.post("/webhooks/salla", content=body, headers=signed(body))
        finally:
            with contextlib.suppress(Exception):
                await app.state.queue.disconnect()
            app.state.queue = working_queue
        assert response.status_code == 200
        assert response.json()["status"] == "stored"
        assert await _status_is(response.json()["id"], "pending")

        await _age_pending_deliveries()
        async with running_worker(salla_settings):
            await queue.enqueue("sweep_salla_inbox", timeout=50, retries=1, ttl=-1)
            await until(lambda: _status_is(response.json()["id"], "done"), "the sweeper's job applied it")

        assert await effects_per_n() == {7: 1}


async def test_it_applies_every_delivery_after_redis_is_emptied_mid_stream(
    webhooks: httpx.AsyncClient, salla_settings: Settings, redis: Redis, queue: Queue
) -> None:
    before = [salla_body(n=n) for n in range(12)]
    after = [salla_body(n=n) for n in range(12, 18)]

    for body in before:
        assert (await webhooks.post("/webhooks/salla", content=body, headers=signed(body))).status_code == 200
    await redis.flushdb()  # every queued job is gone; the inbox rows are not
    for body in after:
        assert (await webhooks.post("/webhooks/salla", content=body, headers=signed(body))).status_code == 200

    async with running_worker(salla_settings):
        # A handler's effect commits a moment before its row is marked done: wait for the rows.
        await until(
            lambda: _count_is("SELECT count(*) FROM salla_webhooks WHERE status = 'done'", 6), "the later six applied"
        )
        assert await count("SELECT count(*) FROM test_webhook_effects") == 6
        assert await count("SELECT count(*) FROM salla_webhooks WHERE status = 'pending'") == 12

        await _age_pending_deliveries()
        await queue.enqueue("sweep_salla_inbox", timeout=50, retries=1, ttl=-1)
        await until(
            lambda: _count_is("SELECT count(*) FROM salla_webhooks WHERE status = 'done'", 18), "all 18 applied"
        )

    assert await effects_per_n() == {n: 1 for n in range(18)}


async def test_the_sweeper_leaves_deliveries_younger_than_its_grace_period_alone(
    webhooks: httpx.AsyncClient, salla_settings: Settings, redis: Redis
) -> None:
    from app.salla import inbox
    from tasks.queue import create_queue

    body = salla_body(n=3)
    await webhooks.post("/webhooks/salla", content=body, headers=signed(body))
    await redis.flushdb()
    sweeper_queue = create_queue(salla_settings)
    try:
        young = await inbox.sweep(sweeper_queue)
        await _age_pending_deliveries()
        old = await inbox.sweep(sweeper_queue)
        again = await inbox.sweep(sweeper_queue)  # still waiting in the queue: no second job
    finally:
        await sweeper_queue.disconnect()

    assert (young, old, again) == (0, 1, 0)


async def _age_pending_deliveries() -> None:
    """As if the sweeper's grace period had passed since they arrived."""
    await SallaWebhook.raw(
        "UPDATE salla_webhooks SET received_at = received_at - interval '5 minutes' WHERE status = 'pending'"
    )
