"""What each Salla webhook event does: a table from event name to handler, filled by the modules that own them.

``app.salla.lifecycle`` registers the app's own events (install, authorize, uninstall, trial, subscription) and
``app.salla.store_events`` the store's data (customers, products, orders, abandoned carts). The inbox job
(``app.salla.inbox``) looks the event up here; an event nobody registered is stored and marked ``ignored``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from redis.asyncio import Redis
from saq import Queue

from app.settings import Settings

__all__ = ["EventContext", "EventRejected", "Handler", "WebhookEvent", "handler_for", "on", "parse_created_at"]


@dataclass(frozen=True)
class WebhookEvent:
    """One delivery from the inbox, parsed."""

    inbox_id: int
    event: str
    merchant_id: int | None
    created_at: datetime | None
    """Salla's ``created_at`` (several formats; see :func:`parse_created_at`), None when absent or unreadable."""
    data: dict[str, Any]
    body: dict[str, Any]


@dataclass(frozen=True)
class EventContext:
    settings: Settings
    redis: Redis
    queue: Queue


class EventRejected(Exception):
    """The event can never be applied as it is (a required part is missing or malformed): the inbox marks it
    ``failed`` at once, with this message as the reason, instead of retrying. An operator can replay it."""


Handler = Callable[[WebhookEvent, EventContext], Awaitable[None]]

_HANDLERS: dict[str, Handler] = {}


def on(*events: str) -> Callable[[Handler], Handler]:
    """Register the decorated coroutine as the handler of ``events``."""

    def register(handler: Handler) -> Handler:
        for event in events:
            if event in _HANDLERS and _HANDLERS[event] is not handler:
                raise ValueError(f"two handlers for the Salla event {event!r}")
            _HANDLERS[event] = handler
        return handler

    return register


def handler_for(event: str) -> Handler | None:
    _load_handlers()
    return _HANDLERS.get(event)


def _load_handlers() -> None:
    # Imported here, not at the top, because those modules import this one to register themselves.
    from app.salla import lifecycle, store_events  # noqa: F401


_RIYADH = timezone(timedelta(hours=3), "Asia/Riyadh")
"""Salla's times without a zone are the store's (Saudi Arabia, no daylight saving)."""

_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%a %b %d %Y %H:%M:%S GMT%z",
)


def parse_created_at(value: object) -> datetime | None:
    """Salla's ``created_at``: "2022-12-31 12:31:25" (Riyadh time), "Tue Jan 25 2022 12:36:49 GMT+0300" or ISO."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    text = text.split(" (", 1)[0]  # JavaScript's Date.toString() may append "(Arabian Standard Time)"
    with contextlib.suppress(ValueError):
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=_RIYADH)
    for pattern in _FORMATS:
        with contextlib.suppress(ValueError):
            parsed = datetime.strptime(text, pattern)
            return (parsed if parsed.tzinfo else parsed.replace(tzinfo=_RIYADH)).astimezone(UTC)
    return None
