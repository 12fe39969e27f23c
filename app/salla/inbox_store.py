"""Data access for the webhook inbox (the registry's ``salla_webhooks``; columns in app/salla/tables.py).

Plain asyncpg on the registry engine's pool: the intake's INSERT is the hottest statement Wosool runs, and the
claim needs a connection of its own that holds a row lock while a handler runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from app.registry import database as registry

__all__ = [
    "Claim",
    "Delivery",
    "InboxRow",
    "Receipt",
    "WebhookSummary",
    "claim",
    "count_by_status",
    "delete_processed_before",
    "insert_delivery",
    "list_webhooks",
    "pending_received_before",
    "recent_for_merchant",
    "reset_for_replay",
]


@dataclass(frozen=True)
class Receipt:
    """What the intake learned from storing a delivery."""

    id: int
    stored: bool
    """False: the same bytes were already in the inbox."""
    status: str


@dataclass(frozen=True)
class InboxRow:
    """A claimed delivery: everything its handler needs."""

    id: int
    event: str
    merchant_id: int | None
    body: dict[str, Any]
    attempts: int


@dataclass(frozen=True)
class WebhookSummary:
    """A delivery as operators and merchants see it: never its body."""

    id: int
    event: str
    merchant_id: int | None
    status: str
    attempts: int
    last_error: str
    received_at: datetime
    processed_at: datetime | None


_SUMMARY_COLUMNS = "id, event, merchant_id, status, attempts, last_error, received_at, processed_at"

_SINGLE_INSERT = """
WITH inserted AS (
    INSERT INTO salla_webhooks (body_hash, event, merchant_id, body)
    VALUES ($1, $2, $3, $4::jsonb)
    ON CONFLICT (body_hash) DO NOTHING
    RETURNING id, status
)
SELECT $1::varchar AS body_hash, id, status, true AS stored FROM inserted
UNION ALL
SELECT body_hash, id, status, false FROM salla_webhooks WHERE body_hash = $1 AND NOT EXISTS (SELECT 1 FROM inserted)
"""

# The same for a batch of deliveries in one statement (and one commit). A row that a concurrent statement
# committed after this one's snapshot began is in neither branch: `_store` looks for those again.
_BATCH_INSERT = """
WITH incoming AS (
    SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::bigint[], $4::text[]) WITH ORDINALITY
        AS incoming (body_hash, event, merchant_id, body, position)
),
inserted AS (
    INSERT INTO salla_webhooks (body_hash, event, merchant_id, body)
    SELECT body_hash, event, merchant_id, body::jsonb FROM incoming ORDER BY position
    ON CONFLICT (body_hash) DO NOTHING
    RETURNING body_hash, id, status
)
SELECT body_hash, id, status, true AS stored FROM inserted
UNION ALL
SELECT body_hash, id, status, false FROM salla_webhooks
WHERE body_hash = ANY($1::varchar[]) AND body_hash NOT IN (SELECT body_hash FROM inserted)
"""


def _pool() -> asyncpg.Pool:
    pool = registry.engine().pool
    if pool is None:
        raise RuntimeError("the registry pool is not open")
    return pool


@dataclass(frozen=True)
class Delivery:
    """A verified, parsed delivery on its way into the inbox."""

    body_hash: str
    event: str
    merchant_id: int | None
    body_text: str


async def insert_delivery(delivery: Delivery) -> Receipt:
    """Store a delivery once; a repeat of the same bytes returns the stored row. Raises asyncpg's DataError
    when PostgreSQL refuses the JSON (``\\u0000`` has no place in jsonb).

    Deliveries arriving together share one INSERT and one commit (see `_Batcher`); each caller still returns
    only once its own row is committed."""
    loop = asyncio.get_running_loop()
    batcher = _batchers.get(loop)
    if batcher is None:
        batcher = _batchers[loop] = _Batcher()
    return await batcher.insert(delivery)


_MAX_BATCH = 200
_MAX_FLUSHERS = 4
"""Batches in flight at once: a lone delivery never waits for another's commit, and under load the commits
(each an fsync) are shared by everyone who arrived meanwhile."""


class _Batcher:
    """Group commit for the intake: what arrives while earlier batches are being written goes in the next one."""

    def __init__(self) -> None:
        self._waiting: list[tuple[Delivery, asyncio.Future[Receipt]]] = []
        self._flushers = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def insert(self, delivery: Delivery) -> Receipt:
        future: asyncio.Future[Receipt] = asyncio.get_running_loop().create_future()
        self._waiting.append((delivery, future))
        if self._flushers < _MAX_FLUSHERS:
            self._flushers += 1
            task = asyncio.create_task(self._flush())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await future

    async def _flush(self) -> None:
        """Write batches while deliveries wait, on one connection (the pool's reset on release costs a round
        trip: paid once per busy spell, not once per delivery)."""
        pool: asyncpg.Pool | None = None
        connection: asyncpg.Connection | None = None
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[:_MAX_BATCH], self._waiting[_MAX_BATCH:]
                try:
                    if connection is None:
                        pool = _pool()
                        connection = await pool.acquire()
                    await _store(connection, batch)
                except BaseException as error:
                    # The database or the connection failed: these callers get the error (and no 200).
                    for _, future in batch:
                        _settle(future, error=error if isinstance(error, Exception) else RuntimeError("stopped"))
                    if not isinstance(error, Exception):
                        raise
                    if connection is not None and pool is not None:
                        await pool.release(connection)  # a broken connection is closed, not reused
                    connection = None
        finally:
            self._flushers -= 1
            if connection is not None and pool is not None:
                await pool.release(connection)


_batchers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Batcher] = weakref.WeakKeyDictionary()


async def _store(connection: asyncpg.Connection, batch: list[tuple[Delivery, asyncio.Future[Receipt]]]) -> None:
    """Insert a batch and settle every caller's future. A body PostgreSQL refuses fails only its own caller;
    anything else (the connection, the database) raises for the whole batch."""
    try:
        found = await _insert_many(connection, [delivery for delivery, _ in batch])
    except (asyncpg.DataError, asyncpg.ProgramLimitExceededError) as error:
        if len(batch) == 1:
            _settle(batch[0][1], error=error)
            return
        for delivery, future in batch:  # one bad body must not fail the others: find it
            try:
                _settle(future, (await _insert_many(connection, [delivery]))[delivery.body_hash])
            except (asyncpg.DataError, asyncpg.ProgramLimitExceededError) as single_error:
                _settle(future, error=single_error)
        return
    first_seen: set[str] = set()
    for delivery, future in batch:
        receipt = found[delivery.body_hash]
        if delivery.body_hash in first_seen:  # the same bytes twice in one batch: the second is a repeat
            receipt = Receipt(id=receipt.id, stored=False, status=receipt.status)
        first_seen.add(delivery.body_hash)
        _settle(future, receipt)


def _settle(future: asyncio.Future[Receipt], receipt: Receipt | None = None, *, error: Exception | None = None) -> None:
    if future.done():  # the caller went away (a cancelled request); its row is stored all the same
        return
    if error is not None:
        future.set_exception(error)
    else:
        assert receipt is not None
        future.set_result(receipt)


async def _insert_many(connection: asyncpg.Connection, deliveries: list[Delivery]) -> dict[str, Receipt]:
    unique = list({delivery.body_hash: delivery for delivery in deliveries}.values())
    if len(unique) == 1:
        [one] = unique
        rows = await connection.fetch(_SINGLE_INSERT, one.body_hash, one.event, one.merchant_id, one.body_text)
    else:
        rows = await connection.fetch(
            _BATCH_INSERT,
            [delivery.body_hash for delivery in unique],
            [delivery.event for delivery in unique],
            [delivery.merchant_id for delivery in unique],
            [delivery.body_text for delivery in unique],
        )
    found = {row["body_hash"]: Receipt(id=row["id"], stored=row["stored"], status=row["status"]) for row in rows}
    missing = [delivery.body_hash for delivery in unique if delivery.body_hash not in found]
    if missing:  # inserted by a concurrent statement that committed after our snapshot began
        for row in await connection.fetch(
            "SELECT body_hash, id, status FROM salla_webhooks WHERE body_hash = ANY($1::varchar[])", missing
        ):
            found[row["body_hash"]] = Receipt(id=row["id"], stored=False, status=row["status"])
    assert all(delivery.body_hash in found for delivery in unique), "a conflicting row exists, so it is found"
    return found


class Claim:
    """A pending delivery locked for one worker (``FOR UPDATE``) until the ``claim`` block ends."""

    def __init__(self, connection: asyncpg.Connection, row: InboxRow) -> None:
        self._connection = connection
        self.row = row

    async def finish(self, status: str) -> None:
        """``done`` or ``ignored``."""
        await self._connection.execute(
            "UPDATE salla_webhooks SET status = $2, processed_at = now(), last_error = '' WHERE id = $1",
            self.row.id,
            status,
        )

    async def record_failure(self, *, attempts: int, status: str, error: str) -> None:
        """``pending`` (to be retried) or ``failed`` (given up; an operator can replay it)."""
        await self._connection.execute(
            "UPDATE salla_webhooks SET attempts = $2, status = $3, last_error = $4 WHERE id = $1",
            self.row.id,
            attempts,
            status,
            error,
        )


# Each claim holds a registry connection while its handler runs, and handlers use the same pool: claims may
# take at most half of it, so handlers always find a connection (otherwise N claims could starve N handlers).
_claim_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[int, asyncio.Semaphore]] = (
    weakref.WeakKeyDictionary()
)


def _slots(pool: asyncpg.Pool) -> asyncio.Semaphore:
    """The claim slots of ``pool`` (one pool per process and loop; a new pool, as in tests, gets new slots)."""
    loop = asyncio.get_running_loop()
    known = _claim_slots.get(loop)
    if known is None or known[0] != id(pool):
        known = _claim_slots[loop] = (id(pool), asyncio.Semaphore(max(1, pool.get_max_size() // 2)))
    return known[1]


@contextlib.asynccontextmanager
async def claim(inbox_id: int) -> AsyncIterator[Claim | None]:
    """Lock the delivery while the block runs and commit what it recorded at the end (an error rolls back).

    Yields None when there is nothing to do: no such row, not pending, or another worker holds it now."""
    pool = _pool()
    async with _slots(pool), pool.acquire() as connection, connection.transaction():
        row = await connection.fetchrow(
            "SELECT id, event, merchant_id, body, status, attempts FROM salla_webhooks "
            "WHERE id = $1 FOR UPDATE SKIP LOCKED",
            inbox_id,
        )
        if row is None or row["status"] != "pending":
            yield None
            return
        body = json.loads(row["body"])
        yield Claim(
            connection,
            InboxRow(
                id=row["id"],
                event=row["event"],
                merchant_id=row["merchant_id"],
                body=body if isinstance(body, dict) else {},
                attempts=row["attempts"],
            ),
        )


async def pending_received_before(moment: datetime, *, limit: int) -> list[int]:
    """Ids of pending deliveries received before ``moment``, oldest first (the partial index
    ``salla_webhooks_pending`` serves this)."""
    rows = await _pool().fetch(
        "SELECT id FROM salla_webhooks WHERE status = 'pending' AND received_at < $1 ORDER BY received_at LIMIT $2",
        moment,
        limit,
    )
    return [row["id"] for row in rows]


async def delete_processed_before(moment: datetime, *, limit: int) -> int:
    """Delete up to ``limit`` applied or ignored deliveries received before ``moment`` (failed and pending ones stay
    for operators and the sweeper); returns how many."""
    deleted = await _pool().fetchval(
        """
        WITH old AS (
            SELECT id FROM salla_webhooks
            WHERE status IN ('done', 'ignored') AND received_at < $1
            ORDER BY received_at
            LIMIT $2
        ), gone AS (DELETE FROM salla_webhooks WHERE id IN (SELECT id FROM old) RETURNING 1)
        SELECT count(*) FROM gone
        """,
        moment,
        limit,
    )
    return int(deleted)


async def reset_for_replay(inbox_id: int) -> tuple[WebhookSummary, str] | None:
    """Put a delivery back to pending with no attempts; returns it and the status it had, None if unknown."""
    row = await _pool().fetchrow(
        f"""
        UPDATE salla_webhooks AS w
        SET status = 'pending', attempts = 0, last_error = '', processed_at = NULL
        FROM (SELECT id, status FROM salla_webhooks WHERE id = $1 FOR UPDATE) AS previous
        WHERE w.id = previous.id
        RETURNING {", ".join(f"w.{name}" for name in _SUMMARY_COLUMNS.split(", "))}, previous.status AS was
        """,  # noqa: S608 (column names are constants)
        inbox_id,
    )
    if row is None:
        return None
    return _summary(row), row["was"]


async def list_webhooks(
    *, status: str | None = None, merchant_id: int | None = None, limit: int = 50, before_id: int | None = None
) -> list[WebhookSummary]:
    """Newest first; ``before_id`` pages backwards."""
    rows = await _pool().fetch(
        f"""
        SELECT {_SUMMARY_COLUMNS} FROM salla_webhooks
        WHERE ($1::text IS NULL OR status = $1)
          AND ($2::bigint IS NULL OR merchant_id = $2)
          AND ($3::bigint IS NULL OR id < $3)
        ORDER BY id DESC
        LIMIT $4
        """,  # noqa: S608 (column names are constants)
        status,
        merchant_id,
        before_id,
        limit,
    )
    return [_summary(row) for row in rows]


async def recent_for_merchant(merchant_id: int, *, limit: int) -> list[WebhookSummary]:
    """Served by the index ``salla_webhooks_merchant (merchant_id, received_at DESC)``."""
    rows = await _pool().fetch(
        f"SELECT {_SUMMARY_COLUMNS} FROM salla_webhooks WHERE merchant_id = $1 "  # noqa: S608
        "ORDER BY received_at DESC LIMIT $2",
        merchant_id,
        limit,
    )
    return [_summary(row) for row in rows]


async def count_by_status(merchant_id: int, *, since: datetime) -> dict[str, int]:
    rows = await _pool().fetch(
        "SELECT status, count(*) AS n FROM salla_webhooks WHERE merchant_id = $1 AND received_at >= $2 GROUP BY status",
        merchant_id,
        since,
    )
    return {row["status"]: row["n"] for row in rows}


def _summary(row: asyncpg.Record) -> WebhookSummary:
    return WebhookSummary(
        id=row["id"],
        event=row["event"],
        merchant_id=row["merchant_id"],
        status=row["status"],
        attempts=row["attempts"],
        last_error=row["last_error"],
        received_at=row["received_at"],
        processed_at=row["processed_at"],
    )
