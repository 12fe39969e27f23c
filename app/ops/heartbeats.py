"""Data access for worker heartbeats (the registry's ``worker_heartbeats`` table)."""

from __future__ import annotations

from datetime import datetime

from app.ops.tables import WorkerHeartbeat

__all__ = ["newest_beat", "save_beat"]


async def save_beat(
    *, worker_id: str, hostname: str, pid: int, queue: str, started_at: datetime, beat_at: datetime
) -> None:
    await WorkerHeartbeat.raw(
        """
        INSERT INTO worker_heartbeats (worker_id, hostname, pid, queue, started_at, beat_at)
        VALUES ({}, {}, {}, {}, {}, {})
        ON CONFLICT (worker_id) DO UPDATE
            SET hostname = EXCLUDED.hostname, pid = EXCLUDED.pid, queue = EXCLUDED.queue,
                started_at = EXCLUDED.started_at, beat_at = EXCLUDED.beat_at
        """,
        worker_id,
        hostname,
        pid,
        queue,
        started_at,
        beat_at,
    )


async def newest_beat() -> datetime | None:
    row = (
        await WorkerHeartbeat.select(WorkerHeartbeat.beat_at).order_by(WorkerHeartbeat.beat_at, ascending=False).first()
    )
    return None if row is None else row["beat_at"]
