"""The app's own lifecycle events: install, authorize, update, uninstall, trial and subscription.

Each handler reads the event and calls the rules in :mod:`app.salla.install`.
"""

from __future__ import annotations

from app.salla import install
from app.salla.accounts import grant_from_payload
from app.salla.events import EventContext, EventRejected, WebhookEvent, on

__all__ = ["app_installed", "app_uninstalled", "store_authorized", "subscription_changed"]


def _merchant(event: WebhookEvent) -> int:
    if event.merchant_id is None:
        raise EventRejected(f"{event.event} without a merchant id")
    return event.merchant_id


def _context(context: EventContext) -> install.StoreContext:
    return install.StoreContext(settings=context.settings, redis=context.redis, queue=context.queue)


@on("app.installed")
async def app_installed(event: WebhookEvent, context: EventContext) -> None:
    await install.record_installed(_merchant(event), event.created_at, _context(context))


@on("app.store.authorize")
async def store_authorized(event: WebhookEvent, context: EventContext) -> None:
    try:
        grant = grant_from_payload(event.data)
    except ValueError as problem:
        raise EventRejected(f"app.store.authorize without usable tokens: {problem}") from None
    await install.connect_store(_merchant(event), grant, _context(context), happened_at=event.created_at)


@on("app.uninstalled")
async def app_uninstalled(event: WebhookEvent, context: EventContext) -> None:
    await install.uninstall_store(_merchant(event), event.created_at, _context(context))


@on(*install.SUBSCRIPTION_STATUS)
async def subscription_changed(event: WebhookEvent, context: EventContext) -> None:
    await install.record_subscription(_merchant(event), event.event, event.data, event.created_at, _context(context))
