"""``POST /webhooks/salla``: verify, store in the inbox, answer 200; and the operators' view of the inbox
(``/api/admin/salla/webhooks``). HTTP only: the rules are in app.salla.signatures and app.salla.inbox."""

from __future__ import annotations

import hmac
from typing import Any

from litestar import Request, Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.connection import ASGIConnection
from litestar.exceptions import (
    ClientException,
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    ServiceUnavailableException,
)
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromPath, FromQuery
from litestar.status_codes import HTTP_202_ACCEPTED, HTTP_413_REQUEST_ENTITY_TOO_LARGE
from prometheus_client import Counter

from app.salla import inbox
from app.salla.inbox import InvalidDelivery, WebhookSummary
from app.salla.signatures import InvalidSignature, verify_delivery
from app.settings import Settings

__all__ = ["MAX_BODY_BYTES", "WEBHOOK_ROUTES"]

MAX_BODY_BYTES = 1024 * 1024
"""Salla's envelopes are a few kilobytes; an order with many lines stays far below this."""
_BIGINT_MAX = 2**63 - 1

_received = Counter(
    "wosool_salla_webhooks_received", "Salla webhook deliveries by outcome: stored, duplicate or rejected.", ["outcome"]
)
_stored, _duplicate, _rejected = (_received.labels(outcome) for outcome in ("stored", "duplicate", "rejected"))


def _rejected_with(status_code: int, detail: str) -> HTTPException:
    _rejected.inc()
    if status_code == 401:
        return NotAuthorizedException(detail)
    if status_code == 503:
        return ServiceUnavailableException(detail)
    return HTTPException(status_code=status_code, detail=detail)


@post(
    "/webhooks/salla",
    include_in_schema=False,  # Salla's door, not an API for integrators
    request_max_body_size=MAX_BODY_BYTES,
    status_code=200,
)
async def receive_salla_webhook(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    """Verified on the raw body before parsing; stored before the 200; applied by a job enqueued afterwards."""
    settings: Settings = request.app.state.settings
    secret, strategy = settings.salla.webhook_secret, settings.salla.webhook_strategy
    if not secret:
        raise _rejected_with(503, "Salla webhooks are not configured here (SALLA_WEBHOOK_SECRET is empty)")
    try:
        body = await request.body()  # Litestar stops reading once the limit is passed, with or without a length
    except RequestEntityTooLarge:
        raise _rejected_with(
            HTTP_413_REQUEST_ENTITY_TOO_LARGE, f"the body is larger than {MAX_BODY_BYTES} bytes"
        ) from None
    try:
        verify_delivery(strategy=strategy, secret=secret, headers=request.headers, body=body)
        receipt = await inbox.receive(body)
    except InvalidSignature as error:
        raise _rejected_with(401, f"invalid Salla webhook: {error}") from None
    except InvalidDelivery as error:
        raise _rejected_with(400, str(error)) from None
    (_stored if receipt.stored else _duplicate).inc()
    # Enqueued after the answer has gone: a stored delivery is safe, and Redis trouble only delays it (sweeper).
    background = BackgroundTask(inbox.try_request_apply, request.app.state.queue, receipt.id)
    return Response(
        {"status": "stored" if receipt.stored else "duplicate", "id": receipt.id},
        background=background if receipt.status == "pending" else None,
    )


def operator_key_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """The operator API: ``X-Admin-Key`` must be SUPER_ADMIN_KEY (compared in constant time; never an empty key)."""
    expected = connection.app.state.settings.super_admin_key
    given = connection.headers.get("x-admin-key", "")
    if not expected or not hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
        raise NotAuthorizedException("send the operator key (SUPER_ADMIN_KEY) in the X-Admin-Key header")


def _summary(webhook: WebhookSummary) -> dict[str, Any]:
    return {
        "id": webhook.id,
        "event": webhook.event,
        "merchant_id": webhook.merchant_id,
        "status": webhook.status,
        "attempts": webhook.attempts,
        "last_error": webhook.last_error,
        "received_at": webhook.received_at,
        "processed_at": webhook.processed_at,
    }


def _id_or_none(value: int | None, name: str) -> int | None:
    if value is not None and not 0 <= value <= _BIGINT_MAX:
        raise ClientException(f"{name} is out of range")
    return value


@get(
    "/api/admin/salla/webhooks",
    guards=[operator_key_guard],
    tags=["admin"],
    summary="The Salla webhook inbox, newest first (operator key in X-Admin-Key)",
    cache=False,
)
async def list_salla_webhooks(
    status: FromQuery[str | None] = None,
    merchant_id: FromQuery[int | None] = None,
    limit: FromQuery[int] = 50,
    before_id: FromQuery[int | None] = None,
) -> dict[str, Any]:
    """Filter by `status` (pending, done, ignored, failed) and `merchant_id`; page with `before_id` (the
    previous page's `next_before_id`). Bodies are never shown."""
    if status is not None and status not in inbox.STATUSES:
        raise ClientException(f"status must be one of: {', '.join(inbox.STATUSES)}")
    found = await inbox.list_webhooks(
        status=status,
        merchant_id=_id_or_none(merchant_id, "merchant_id"),
        limit=limit,
        before_id=_id_or_none(before_id, "before_id"),
    )
    return {
        "webhooks": [_summary(webhook) for webhook in found],
        "next_before_id": found[-1].id if found else None,
    }


@post(
    "/api/admin/salla/webhooks/{inbox_id:int}/replay",
    guards=[operator_key_guard],
    tags=["admin"],
    summary="Apply a Salla webhook again: back to pending with no attempts, then enqueued (operator key)",
    status_code=HTTP_202_ACCEPTED,
)
async def replay_salla_webhook(request: Request[Any, Any, Any], inbox_id: FromPath[int]) -> dict[str, Any]:
    if not 0 < inbox_id <= _BIGINT_MAX:
        raise NotFoundException(f"no Salla webhook {inbox_id}")
    replayed = await inbox.replay(request.app.state.queue, inbox_id, actor="operator")
    if replayed is None:
        raise NotFoundException(f"no Salla webhook {inbox_id}")
    return _summary(replayed)


WEBHOOK_ROUTES: list[Any] = [receive_salla_webhook, list_salla_webhooks, replay_salla_webhook]
