"""The webhook inbox: every verified Salla delivery is stored in PostgreSQL before it is answered, then applied by
a job, exactly once per distinct body.

- ``receive``: parse the (already verified) raw body and store it, de-duplicated by the SHA-256 of its bytes
  (Salla sends no delivery id and retries the very same bytes).
- ``request_apply``: enqueue the apply job; its SAQ key is the inbox id, so asking twice is harmless.
- ``apply``: lock the row, call the event's handler (``app.salla.events``), record ``done``, ``ignored``, or the
  failure (``pending`` to be retried, ``failed`` after `MAX_ATTEMPTS`).
- ``sweep``: re-enqueue pending rows older than a grace period; Redis may lose jobs, PostgreSQL keeps the truth.
- ``replay``: an operator puts a delivery back to pending and enqueues it.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import asyncpg
import msgspec
import structlog
from redis.exceptions import RedisError
from saq import Queue

from app.admin import audit
from app.salla import inbox_store
from app.salla.events import EventContext, WebhookEvent, handler_for, parse_created_at
from app.salla.inbox_store import Delivery, InboxRow, Receipt, WebhookSummary

__all__ = [
    "APPLY_JOB",
    "MAX_ATTEMPTS",
    "STATUSES",
    "InboxCounts",
    "InvalidDelivery",
    "Outcome",
    "Receipt",
    "WebhookSummary",
    "apply",
    "inbox_counts",
    "list_webhooks",
    "purge_processed",
    "receive",
    "recent_webhooks",
    "replay",
    "request_apply",
    "sweep",
    "try_request_apply",
]

log = structlog.get_logger("wosool.salla.inbox")

APPLY_JOB = "apply_salla_webhook"
STATUSES = ("pending", "done", "ignored", "failed")
MAX_ATTEMPTS = 5
"""A handler that fails this many times leaves its delivery ``failed`` until an operator replays it."""
HANDLER_TIMEOUT_SECONDS = 60.0
"""Counted as a failed attempt, like an exception (SAQ's own timeout would not reach the row)."""
SWEEP_GRACE = timedelta(seconds=30)
"""Younger pending rows are still on their way through the queue."""
SWEEP_BATCH = 1000
_EVENT_MAX_LENGTH = 100  # salla_webhooks.event is varchar(100)
_BIGINT_MAX = 2**63 - 1
_ERROR_MAX_LENGTH = 2000

Outcome = Literal["done", "ignored", "retry", "failed", "skipped"]


class InvalidDelivery(ValueError):
    """A verified body Wosool cannot take; the message says why."""


def _parse(body: bytes) -> Delivery:
    try:
        text = body.decode("utf-8")
        envelope = msgspec.json.decode(text)
    except (UnicodeError, msgspec.DecodeError, RecursionError) as error:
        raise InvalidDelivery(f"the body is not valid JSON: {error}") from None
    if not isinstance(envelope, dict):
        raise InvalidDelivery("the body must be a JSON object with an 'event'")
    event = envelope.get("event")
    if not isinstance(event, str) or not event.strip():
        raise InvalidDelivery("the body has no 'event' string")
    if len(event) > _EVENT_MAX_LENGTH:
        raise InvalidDelivery(f"the 'event' is longer than {_EVENT_MAX_LENGTH} characters")
    return Delivery(
        body_hash=hashlib.sha256(body).hexdigest(),
        event=event,
        merchant_id=_merchant_id(envelope.get("merchant")),
        body_text=text,
    )


def _merchant_id(value: object) -> int | None:
    """Salla's store id: a number, sometimes sent as a string."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= _BIGINT_MAX:
        raise InvalidDelivery("the 'merchant' must be a store id (a whole number)")
    return value


async def receive(body: bytes) -> Receipt:
    """Store a verified delivery (once). Raises `InvalidDelivery` and stores nothing when it is not an envelope."""
    delivery = _parse(body)
    try:
        return await inbox_store.insert_delivery(delivery)
    except (asyncpg.DataError, asyncpg.ProgramLimitExceededError) as error:
        raise InvalidDelivery(f"the body cannot be stored as JSON: {error}") from None


async def request_apply(queue: Queue, inbox_id: int) -> bool:
    """Enqueue the apply job; False when one for this delivery is already waiting (nothing to do)."""
    job = await queue.enqueue(
        APPLY_JOB,
        inbox_id=inbox_id,
        key=f"salla-webhook:{inbox_id}",
        # The handler's own limit is HANDLER_TIMEOUT_SECONDS; SAQ's is a backstop for the bookkeeping around it.
        timeout=int(HANDLER_TIMEOUT_SECONDS) + 30,
        # The row counts attempts (MAX_ATTEMPTS); SAQ's retries only pace them, with one spare for a run cut
        # short outside the handler (a worker stopped mid-job). Past that, the sweeper takes over.
        retries=MAX_ATTEMPTS + 1,
        retry_delay=1.0,
        retry_backoff=60.0,
        # A finished job is deleted at once: the inbox row is the record, and Redis holds only work to do.
        # (Also: SAQ keeps a finished job with SETEX, which redis-py 8 deprecates.)
        ttl=-1,
    )
    return job is not None


async def try_request_apply(queue: Queue, inbox_id: int) -> bool:
    """`request_apply`, but a Redis failure is only logged: the row is pending and `sweep` will enqueue it."""
    try:
        return await request_apply(queue, inbox_id)
    except (RedisError, OSError) as error:
        log.warning("salla webhook not enqueued; the sweeper will", inbox_id=inbox_id, error=str(error))
        return False


async def apply(inbox_id: int, context: EventContext) -> Outcome:
    """Apply one delivery, at most once at a time and never again once it is done or ignored.

    ``retry`` means the handler failed and the delivery stays pending: the caller should try again later."""
    async with inbox_store.claim(inbox_id) as claimed:
        if claimed is None:
            return "skipped"
        handler = handler_for(claimed.row.event)
        if handler is None:
            await claimed.finish("ignored")
            return "ignored"
        try:
            async with asyncio.timeout(HANDLER_TIMEOUT_SECONDS):
                await handler(_event(claimed.row), context)
        except Exception as error:
            attempts = claimed.row.attempts + 1
            status = "failed" if attempts >= MAX_ATTEMPTS else "pending"
            text = _describe(error)
            await claimed.record_failure(attempts=attempts, status=status, error=text)
            log.warning(
                "salla webhook handler failed",
                inbox_id=inbox_id,
                salla_event=claimed.row.event,
                attempt=attempts,
                gave_up=status == "failed",
                error=text,
            )
            return "failed" if status == "failed" else "retry"
        await claimed.finish("done")
        return "done"


def _event(row: InboxRow) -> WebhookEvent:
    data = row.body.get("data")
    return WebhookEvent(
        inbox_id=row.id,
        event=row.event,
        merchant_id=row.merchant_id,
        created_at=parse_created_at(row.body.get("created_at")),
        data=data if isinstance(data, dict) else {},
        body=row.body,
    )


def _describe(error: BaseException) -> str:
    if isinstance(error, TimeoutError) and not str(error):
        return f"the handler took longer than {HANDLER_TIMEOUT_SECONDS:g} s"
    return f"{type(error).__name__}: {error}"[:_ERROR_MAX_LENGTH]


async def sweep(
    queue: Queue, *, older_than: timedelta = SWEEP_GRACE, limit: int = SWEEP_BATCH, now: datetime | None = None
) -> int:
    """Re-enqueue pending deliveries older than ``older_than`` (oldest first, at most ``limit``); returns how many
    jobs were really enqueued (the others were still waiting in the queue)."""
    moment = (now or datetime.now(UTC)) - older_than
    enqueued = 0
    for inbox_id in await inbox_store.pending_received_before(moment, limit=limit):
        enqueued += await request_apply(queue, inbox_id)
    return enqueued


PROCESSED_KEPT = timedelta(days=30)
"""How long an applied delivery stays in the inbox: it holds customers' data, and Salla stops retrying a delivery
within minutes, so after this its hash is no longer needed to recognise a repeat."""
PURGE_BATCH = 10_000


async def purge_processed(*, now: datetime | None = None) -> int:
    """Delete applied and ignored deliveries older than `PROCESSED_KEPT`, a batch at a time; returns how many."""
    moment = (now or datetime.now(UTC)) - PROCESSED_KEPT
    total = 0
    while deleted := await inbox_store.delete_processed_before(moment, limit=PURGE_BATCH):
        total += deleted
    return total


async def replay(queue: Queue, inbox_id: int, *, actor: str) -> WebhookSummary | None:
    """Put a delivery back to pending with its attempts at zero, enqueue it, and audit it; None if unknown."""
    reset = await inbox_store.reset_for_replay(inbox_id)
    if reset is None:
        return None
    summary, previous_status = reset
    await audit.record(
        actor,
        "salla.webhook.replayed",
        inbox_id=inbox_id,
        salla_event=summary.event,
        merchant_id=summary.merchant_id,
        previous_status=previous_status,
    )
    await try_request_apply(queue, inbox_id)
    return summary


async def list_webhooks(
    *, status: str | None = None, merchant_id: int | None = None, limit: int = 50, before_id: int | None = None
) -> list[WebhookSummary]:
    """For operators: newest first, filtered by status and merchant; never bodies."""
    if status is not None and status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}")
    return await inbox_store.list_webhooks(
        status=status, merchant_id=merchant_id, limit=max(1, min(limit, 200)), before_id=before_id
    )


async def recent_webhooks(merchant_id: int, limit: int = 20) -> list[WebhookSummary]:
    """The merchant page's list: the store's latest deliveries (event, status, times, last error)."""
    return await inbox_store.recent_for_merchant(merchant_id, limit=max(1, min(limit, 100)))


@dataclass(frozen=True)
class InboxCounts:
    pending: int = 0
    done: int = 0
    ignored: int = 0
    failed: int = 0
    days: int = 30

    @property
    def total(self) -> int:
        return self.pending + self.done + self.ignored + self.failed


async def inbox_counts(merchant_id: int, *, days: int = 30) -> InboxCounts:
    """How the store's deliveries of the last ``days`` days stand, per status."""
    counts: dict[str, Any] = await inbox_store.count_by_status(
        merchant_id, since=datetime.now(UTC) - timedelta(days=days)
    )
    return InboxCounts(**{status: counts.get(status, 0) for status in STATUSES}, days=days)
