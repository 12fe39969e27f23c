"""Applied deliveries hold customers' personal data: after 30 days the daily purge deletes them. Failed and
pending ones stay (an operator or the sweeper still needs them)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from app.salla import inbox
from app.salla.sandbox import Sandbox
from app.settings import Settings
from tests.salla.support import MERCHANT, deliver, registry_rows


async def test_it_deletes_applied_deliveries_after_30_days_and_keeps_the_rest(
    sandbox: Sandbox, salla_settings: Settings, salla_app: httpx.AsyncClient
) -> None:
    for number in range(4):
        answer = await deliver(salla_app, sandbox, "test.purge", {"n": number}, merchant=MERCHANT)
        assert answer.status_code == 200
    rows = await registry_rows("SELECT id FROM salla_webhooks ORDER BY id")
    old_done, old_ignored, old_failed, recent_done = (row["id"] for row in rows)
    connection_rows = [
        (old_done, "done", 31),
        (old_ignored, "ignored", 45),
        (old_failed, "failed", 60),
        (recent_done, "done", 29),
    ]
    for inbox_id, status, days in connection_rows:
        await registry_rows(
            "UPDATE salla_webhooks SET status = $2, received_at = now() - make_interval(days => $3) WHERE id = $1",
            inbox_id,
            status,
            days,
        )

    deleted = await inbox.purge_processed(now=datetime.now(UTC))

    assert deleted == 2
    left = {row["id"] for row in await registry_rows("SELECT id FROM salla_webhooks")}
    assert left == {old_failed, recent_done}
    assert await inbox.purge_processed(now=datetime.now(UTC) + timedelta(days=2)) == 1
