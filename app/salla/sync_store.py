"""Data access for ``salla_syncs`` (registry; columns in app/salla/tables.py): one row per store and resource, the
checkpoint a sync resumes from."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.salla.tables import SallaSync

__all__ = [
    "SyncRow",
    "checkpoint",
    "fail_unfinished",
    "finish",
    "note_error_everywhere",
    "reset",
    "rows_of",
    "start",
]

ACTIVE = ("queued", "running")


@dataclass(frozen=True)
class SyncRow:
    resource: str
    status: str
    next_page: int
    done: int
    total: int | None
    requests: int
    throttled: int
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime
    last_error: str


_COLUMNS = (
    "resource, status, next_page, done, total, requests, throttled, started_at, finished_at, updated_at, last_error"
)


def _row(values: dict[str, Any]) -> SyncRow:
    return SyncRow(**values)


async def reset(store_id: uuid.UUID, resources: Sequence[str]) -> None:
    """A new full sync of ``resources``: back to page 1, counters at zero, ``queued``."""
    for resource in resources:
        await SallaSync.raw(
            "INSERT INTO salla_syncs (store, resource) VALUES ({}, {}) ON CONFLICT (store, resource) DO UPDATE SET "
            "status = 'queued', next_page = 1, done = 0, total = NULL, requests = 0, throttled = 0, "
            "started_at = NULL, finished_at = NULL, updated_at = now(), last_error = ''",
            store_id,
            resource,
        )


async def rows_of(store_id: uuid.UUID) -> list[SyncRow]:
    rows = await SallaSync.raw(
        f"SELECT {_COLUMNS} FROM salla_syncs WHERE store = {{}} ORDER BY resource",  # noqa: S608 (constant columns)
        store_id,
    )
    return [_row(row) for row in rows]


async def start(store_id: uuid.UUID, resource: str) -> SyncRow | None:
    """Mark a queued (or interrupted) resource running; None when it is not to be synced (done, failed, cancelled)."""
    statement = (
        "UPDATE salla_syncs SET status = 'running', started_at = COALESCE(started_at, now()), updated_at = now(), "
        "last_error = '' WHERE store = {} AND resource = {} AND status IN ('queued', 'running') RETURNING "
    )
    rows = await SallaSync.raw(
        statement + _COLUMNS,
        store_id,
        resource,
    )
    return _row(rows[0]) if rows else None


async def checkpoint(
    store_id: uuid.UUID, resource: str, *, next_page: int, done: int, total: int | None, requests: int, throttled: int
) -> bool:
    """Record a page as stored. False when the sync is no longer running (cancelled): the caller stops."""
    rows = await SallaSync.raw(
        "UPDATE salla_syncs SET next_page = {}, done = {}, total = {}, requests = {}, throttled = {}, "
        "last_error = '', updated_at = now() WHERE store = {} AND resource = {} AND status = 'running' RETURNING id",
        next_page,
        done,
        total,
        requests,
        throttled,
        store_id,
        resource,
    )
    return bool(rows)


async def finish(store_id: uuid.UUID, resource: str) -> None:
    await SallaSync.raw(
        "UPDATE salla_syncs SET status = 'done', finished_at = now(), updated_at = now(), last_error = '' "
        "WHERE store = {} AND resource = {} AND status = 'running'",
        store_id,
        resource,
    )


async def note_error_everywhere(store_id: uuid.UUID, message: str) -> None:
    """A problem the sync will retry: shown to the merchant on its unfinished resources, status unchanged (the
    next page stored clears it)."""
    await SallaSync.raw(
        "UPDATE salla_syncs SET last_error = {}, updated_at = now() "
        "WHERE store = {} AND status IN ('queued', 'running')",
        message[:1000],
        store_id,
    )


async def fail_unfinished(store_id: uuid.UUID, reason: str) -> int:
    """Every queued or running resource of the store becomes ``failed`` with ``reason``; how many did."""
    rows = await SallaSync.raw(
        "UPDATE salla_syncs SET status = 'failed', last_error = {}, finished_at = now(), updated_at = now() "
        "WHERE store = {} AND status IN ('queued', 'running') RETURNING id",
        reason[:1000],
        store_id,
    )
    return len(rows)
