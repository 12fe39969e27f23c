from __future__ import annotations

import httpx
import pytest

from app.salla.sandbox import Sandbox
from tests.salla.conftest import SANDBOX_MERCHANT


async def test_a_storm_answers_429_with_retry_after_then_passes(
    sandbox: Sandbox, sandbox_api: httpx.AsyncClient
) -> None:
    sandbox.storm(SANDBOX_MERCHANT, count=3, status=429, retry_after=7)

    storm = [await sandbox_api.get("/orders") for _ in range(3)]
    after = await sandbox_api.get("/orders")

    for answer in storm:
        assert answer.status_code == 429
        assert answer.headers["Retry-After"] == "7"
        assert answer.headers["X-RateLimit-Remaining"] == "0"
        assert answer.json()["error"]["code"] == "too_many_requests"
    assert after.status_code == 200
    assert after.headers["X-RateLimit-Remaining"] == "359"  # the storm spent none of the budget
    stats = sandbox.stats(SANDBOX_MERCHANT)
    assert (stats.requests, stats.throttled) == (4, 3)


async def test_a_storm_of_500s_counts_as_errors(sandbox: Sandbox, sandbox_api: httpx.AsyncClient) -> None:
    sandbox.storm(SANDBOX_MERCHANT, count=2, status=500)

    statuses = [(await sandbox_api.get("/products")).status_code for _ in range(3)]
    failed = await sandbox_api.get("/products")

    assert statuses == [500, 500, 200]
    assert failed.status_code == 200
    stats = sandbox.stats(SANDBOX_MERCHANT)
    assert (stats.errors, stats.throttled) == (2, 0)


async def test_storms_queue_up_in_order(sandbox: Sandbox, sandbox_api: httpx.AsyncClient) -> None:
    sandbox.storm(SANDBOX_MERCHANT, count=1, status=503)
    sandbox.storm(SANDBOX_MERCHANT, count=1, status=429)

    statuses = [(await sandbox_api.get("/products")).status_code for _ in range(3)]

    assert statuses == [503, 429, 200]


def test_a_storm_needs_a_sensible_status(sandbox: Sandbox) -> None:
    with pytest.raises(ValueError, match="429"):
        sandbox.storm(SANDBOX_MERCHANT, status=404)
