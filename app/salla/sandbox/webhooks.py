"""Webhook deliveries as Salla makes them: the envelope, the security headers, the data of each event, and the
HTTP POST.

Envelope ``{event, merchant, created_at, data}``. Security strategies (shared/reference/salla.md, "Webhooks"):
``signature`` → ``X-Salla-Signature: <lowercase hex HMAC-SHA256 of the raw body with the webhook secret>`` and
``X-Salla-Security-Strategy: Signature``; ``token`` → ``Authorization: <secret>`` (no "Bearer") and
``X-Salla-Security-Strategy: Token``; ``none`` → neither. Salla sends no delivery id.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any

import httpx

from app.salla.sandbox.data import StoreData, webhook_form
from app.salla.sandbox.formats import Rng, local_text, money, salla_date

__all__ = [
    "APP_EVENTS",
    "STRATEGIES",
    "Delivery",
    "Webhook",
    "abandoned_cart_data",
    "app_data",
    "build_webhook",
    "post",
    "subscription_data",
]

STRATEGIES = ("signature", "token", "none")
APP_EVENTS = (
    "app.installed",
    "app.updated",
    "app.uninstalled",
    "app.store.authorize",
    "app.settings.updated",
    "app.feedback.created",
    "app.trial.started",
    "app.trial.expired",
    "app.trial.canceled",
    "app.subscription.started",
    "app.subscription.renewed",
    "app.subscription.expired",
    "app.subscription.canceled",
)
_DELIVERY_TIMEOUT = 30.0
"""Salla waits about 30 s for an answer."""


@dataclass(frozen=True)
class Webhook:
    """One signed delivery, ready to post: exactly these bytes with exactly these headers."""

    event: str
    merchant_id: int
    body: bytes
    headers: dict[str, str]

    @property
    def envelope(self) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(self.body)
        return found

    @property
    def data(self) -> Any:
        return self.envelope["data"]


@dataclass(frozen=True)
class Delivery:
    """A webhook posted to a URL, and what the receiver answered."""

    webhook: Webhook
    url: str
    response: httpx.Response

    @property
    def status_code(self) -> int:
        return self.response.status_code

    @property
    def ok(self) -> bool:
        """Salla counts only 200 and 201 as delivered."""
        return self.response.status_code in {200, 201}


def build_webhook(
    event: str,
    merchant: int | str,
    data: Any,
    *,
    created_at: str,
    secret: str,
    strategy: str,
) -> Webhook:
    envelope = {"event": event, "merchant": merchant, "created_at": created_at, "data": data}
    body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()
    return Webhook(event=event, merchant_id=int(merchant), body=body, headers=security_headers(body, secret, strategy))


def security_headers(body: bytes, secret: str, strategy: str) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "User-Agent": "Salla-Webhooks"}
    if strategy == "signature":
        headers["X-Salla-Security-Strategy"] = "Signature"
        headers["X-Salla-Signature"] = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    elif strategy == "token":
        headers["X-Salla-Security-Strategy"] = "Token"
        headers["Authorization"] = secret
    elif strategy != "none":
        raise ValueError(f"unknown webhook strategy {strategy!r}: use one of {', '.join(STRATEGIES)}")
    return headers


async def post(
    url: str, body: bytes, headers: dict[str, str], *, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.Response:
    """POST the exact bytes (``transport`` lets a test deliver straight into an in-process ASGI app)."""
    async with httpx.AsyncClient(transport=transport, timeout=_DELIVERY_TIMEOUT) as client:
        return await client.post(url, content=body, headers=headers)


def app_data(
    store: StoreData, *, app_id: int, app_name: str, scope: str, store_type: str, now: float
) -> dict[str, Any]:
    """``app.installed`` / ``app.updated``: the app and when it was installed (handlers need none of it)."""
    return {
        "id": app_id,
        "app_name": app_name,
        "app_description": "CRM لمتاجر سلة",
        "app_type": "app",
        "app_scopes": [part for part in scope.split() if part != "offline_access"],
        "installation_date": local_text(now),
        "store_type": store_type,
    }


def subscription_data(event: str, *, store_type: str, now: float, **overrides: Any) -> dict[str, Any]:
    """``app.trial.*`` / ``app.subscription.*`` data, per salla.md ("Lifecycle"); ``overrides`` replace fields."""
    trial = event.startswith("app.trial.")
    start = local_text(now)[:10]
    end = local_text(now + (14 if trial else 30) * 86_400)[:10]
    price, tax = (0, 0) if trial else (99, 14.85)
    data: dict[str, Any] = {
        "id": 657032372,
        "subscription_id": 657032372,
        "app_name": "وصول",
        "item_type": "plan",
        "item_slug": None,
        "plan_type": "once" if trial else "recurring",
        "plan_name": "trail" if trial else "Pro",
        "plan_period": None if trial else "monthly",
        "start_date": start,
        "end_date": end,
        "price": price,
        "tax": tax,
        "total": round(price + tax, 2),
        "initialization_cost": 0,
        "coupon": None,
        "quantity": 1,
        "features": [{"key": "customers", "quantity": 10_000}],
        "store_type": store_type,
    }
    if event == "app.subscription.renewed":
        data["renew_date"] = end
    unknown = sorted(set(overrides) - set(data) - {"renew_date"})
    if unknown:
        raise ValueError(f"unknown subscription field(s): {', '.join(unknown)}")
    data.update(overrides)
    return data


def abandoned_cart_data(store: StoreData, customer_id: int, *, now: float) -> dict[str, Any]:
    """``abandoned.cart``: a customer's cart left at checkout, with a product or two."""
    customer = store.customer(customer_id)
    if customer is None:
        raise KeyError(f"no customer {customer_id} in this store")
    rng = Rng(store.seed, customer_id, int(now))
    product_ids = store.products.window(0, max(1, store.products.count()))
    items, subtotal = [], 0
    for position in range(min(rng.between(1, 2), len(product_ids))):
        product = store.product(product_ids[rng.below(len(product_ids))])
        if product is None:
            continue
        quantity = rng.between(1, 2)
        line = round(product["price"]["amount"] * 100) * quantity
        subtotal += line
        items.append(
            {
                "id": customer_id * 10 + position,
                "product_id": product["id"],
                "name": product["name"],
                "quantity": quantity,
                "thumbnail": product["thumbnail"],
                "amounts": {"total": money(line)},
            }
        )
    return {
        "id": int(now) % 1_000_000_000,
        "total": money(subtotal),
        "subtotal": money(subtotal),
        "total_discount": money(0),
        "checkout_url": f"https://salla.sa/{store.username}/checkout/{secrets.token_hex(8)}",
        "age_in_minutes": 60,
        "created_at": salla_date(now - 3_600),
        "updated_at": salla_date(now),
        "customer": {
            "id": customer["id"],
            "name": f"{customer['first_name']} {customer['last_name']}",
            "mobile": f"{customer['mobile_code']}{customer['mobile']}",
            "email": customer["email"],
            "avatar": customer["avatar"],
            "country": customer["country"],
            "city": customer["city"],
        },
        "coupon": None,
        "items": items,
    }


def record_data(payload: dict[str, Any]) -> dict[str, Any]:
    """A customer, product or order as its webhook carries it."""
    return webhook_form(payload)
