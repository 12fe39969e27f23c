"""Registry tables owned by the ops domain."""

from __future__ import annotations

from piccolo.columns import Integer, Timestamptz, Varchar
from piccolo.table import Table

__all__ = ["WorkerHeartbeat"]


class WorkerHeartbeat(Table, tablename="worker_heartbeats"):
    """The last time each worker processed its heartbeat job; readiness reads the newest."""

    worker_id = Varchar(length=200, unique=True, index=True)
    hostname = Varchar(length=255)
    pid = Integer()
    queue = Varchar(length=100)
    started_at = Timestamptz()
    beat_at = Timestamptz(index=True)
