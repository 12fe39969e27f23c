"""The sandbox itself: stores, tokens, limits, faults and webhooks behind one lock, and the Python interface the
tests, the benchmarks and ``wosool dev`` drive it with. HTTP lives in `server.py`, `accounts.py`, `admin_api.py`."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import httpx

from app.salla.sandbox import webhooks
from app.salla.sandbox.data import StoreData
from app.salla.sandbox.formats import Rng, created_at_text, local_text
from app.salla.sandbox.ratelimit import PLAN_RATES, Fault, StoreLimits
from app.salla.sandbox.server import SandboxApp
from app.salla.sandbox.tokens import ACCESS_TOKEN_SECONDS, DEFAULT_SCOPE, Grant, GrantError, TokenBook
from app.salla.sandbox.webhooks import Delivery, Webhook
from app.salla.sandbox.words import FAMILY_NAMES, MALE_NAMES
from app.settings import SallaSettings

__all__ = ["FakeClock", "Sandbox", "SandboxStats", "SandboxStore"]

Clock = Callable[[], float]


class FakeClock:
    """A clock a test moves by hand: ``clock.advance(61)`` instead of sleeping. Starts at the real time, so the
    absolute expiry times the sandbox hands out still make sense to code that reads the real clock."""

    def __init__(self, start: float | None = None) -> None:
        self.now = time.time() if start is None else start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


@dataclass(frozen=True)
class SandboxStats:
    """What a store's Admin API saw: every authenticated request, how many were answered 429 (by the limits or a
    storm), per route (``/customers``, ``/orders/{id}``...) and per status; plus its token refreshes."""

    requests: int = 0
    throttled: int = 0
    by_path: dict[str, int] = field(default_factory=dict)
    by_status: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    """Answers with a 5xx status."""
    refreshes: int = 0
    """Successful ``grant_type=refresh_token`` exchanges."""
    invalid_grants: int = 0
    """Refused code or refresh-token exchanges (reuse included)."""


class SandboxStore:
    """One merchant's store in the sandbox: its data, limits, counters, webhook URL, subscriptions and the
    webhooks its changes produced and nobody delivered yet (``outbox``)."""

    def __init__(
        self,
        *,
        data: StoreData,
        owner_email: str,
        owner_name: str,
        owner_mobile: str,
        plan: str,
        store_type: str,
    ) -> None:
        self.data = data
        self.merchant_id = data.merchant_id
        self.username = data.username
        self.name = data.name
        self.owner_email = owner_email
        self.owner_name = owner_name
        self.owner_mobile = owner_mobile
        self.plan = plan
        self.store_type = store_type
        self.user_id = 1_700_000_000 + data.merchant_id % 100_000_000
        self.limits = StoreLimits(per_minute=PLAN_RATES.get(plan, PLAN_RATES["plus"]))
        self.webhook_url: str | None = None
        self.subscriptions: list[dict[str, Any]] = []
        self.outbox: list[Webhook] = []
        self.last_grant: dict[str, Any] | None = None
        self._stats = SandboxStats()
        self._by_path: Counter[str] = Counter()
        self._by_status: Counter[int] = Counter()

    @property
    def domain(self) -> str:
        return f"https://salla.sa/{self.username}"

    def user_info(self) -> dict[str, Any]:
        return {
            "id": self.user_id,
            "name": self.owner_name,
            "email": self.owner_email,
            "mobile": self.owner_mobile,
            "role": "user",
            "created_at": "2024-01-15 10:00:00",
            "merchant": {
                "id": self.merchant_id,
                "owner_id": self.user_id,
                "owner_name": self.owner_name,
                "username": self.username,
                "name": self.name,
                "avatar": f"https://cdn.salla.sa/{self.username}/logo.png",
                "store_location": "24.7136,46.6753",
                "plan": self.plan,
                "status": "active",
                "domain": self.domain,
                "tax_number": "300000000000003",
                "commercial_number": "1010000000",
                "created_at": "2024-01-15 10:00:00",
            },
        }

    # ---- reading ---------------------------------------------------------------------------------------------

    def customer(self, customer_id: int) -> dict[str, Any] | None:
        return self.data.customer(customer_id)

    def product(self, product_id: int) -> dict[str, Any] | None:
        return self.data.product(product_id)

    def order(self, order_id: int) -> dict[str, Any] | None:
        return self.data.order(order_id)

    def customer_ids(self) -> list[int]:
        """Every live customer id, newest first (as ``GET /customers`` pages them)."""
        return list(self.data.customers.newest_first())

    def product_ids(self) -> list[int]:
        return list(self.data.products.newest_first())

    def order_ids(self) -> list[int]:
        return list(self.data.orders.newest_first())

    # ---- counting --------------------------------------------------------------------------------------------

    def count(self, path: str, status: int) -> None:
        self._by_path[path] += 1
        self._by_status[status] += 1
        self._stats = dataclasses.replace(
            self._stats,
            requests=self._stats.requests + 1,
            throttled=self._stats.throttled + (status == 429),
            errors=self._stats.errors + (status >= 500),
        )

    def count_grant(self, *, refreshed: bool = False, refused: bool = False) -> None:
        self._stats = dataclasses.replace(
            self._stats,
            refreshes=self._stats.refreshes + refreshed,
            invalid_grants=self._stats.invalid_grants + refused,
        )

    def stats(self) -> SandboxStats:
        return dataclasses.replace(self._stats, by_path=dict(self._by_path), by_status=dict(self._by_status))

    def reset_stats(self) -> None:
        self._stats = SandboxStats()
        self._by_path.clear()
        self._by_status.clear()

    def subscribe(self, body: dict[str, Any]) -> dict[str, Any]:
        subscription = {
            "id": 1_000_000 + len(self.subscriptions) + 1,
            "name": body["name"],
            "event": body["event"],
            "url": body["url"],
            "version": int(body.get("version", 2)),
            "type": "manual",
            "rule": body.get("rule") or "",
            "headers": list(body.get("headers") or []),
        }
        self.subscriptions.append(subscription)
        return subscription


class Sandbox:
    """A faithful local Salla: accounts (OAuth), Admin API v2, rate limits, faults and signed webhooks.

    Thread-safe: every method holds one lock, so a test thread can drive a sandbox served from another thread.
    Knobs for testing a client's robustness (defaults follow salla.md): ``token_expiry_field`` (``expires`` —
    absolute unix seconds — or ``expires_in`` or ``both`` in the token endpoint's answer), ``user_info_envelope``
    (``data`` envelope or the bare object), ``created_at_style`` (``salla``, ``js`` or ``iso``),
    ``tokens.revoke_previous_access_on_refresh``.
    """

    def __init__(
        self,
        *,
        client_id: str = "sandbox-client",
        client_secret: str = "sandbox-secret",  # noqa: S107 (the sandbox's well-known test credentials)
        webhook_secret: str = "sandbox-webhook-secret",  # noqa: S107
        webhook_strategy: str = "signature",
        clock: Clock = time.time,
        access_token_seconds: int = ACCESS_TOKEN_SECONDS,
        redirect_uris: Iterable[str] = (),
        token_expiry_field: str = "expires",  # noqa: S107 (not a secret)
        user_info_envelope: bool = True,
        created_at_style: str = "salla",
        app_id: int = 1_892_735_361,
        app_name: str = "Wosool",
    ) -> None:
        if webhook_strategy not in webhooks.STRATEGIES:
            raise ValueError(f"webhook_strategy must be one of {', '.join(webhooks.STRATEGIES)}")
        if token_expiry_field not in {"expires", "expires_in", "both"}:
            raise ValueError("token_expiry_field must be 'expires', 'expires_in' or 'both'")
        self.client_id = client_id
        self.client_secret = client_secret
        self.webhook_secret = webhook_secret
        self.webhook_strategy = webhook_strategy
        self.clock = clock
        self.redirect_uris = set(redirect_uris)
        self.token_expiry_field = token_expiry_field
        self.user_info_envelope = user_info_envelope
        self.created_at_style = created_at_style
        self.app_id = app_id
        self.app_name = app_name
        self.tokens = TokenBook(access_token_seconds=access_token_seconds)
        self.stores: dict[int, SandboxStore] = {}
        self._authorizing: int | None = None
        self.lock = threading.RLock()

    def now(self) -> float:
        return float(self.clock())

    # ---- stores ----------------------------------------------------------------------------------------------

    def add_store(
        self,
        *,
        merchant_id: int,
        username: str,
        name: str,
        owner_email: str,
        plan: str = "pro",
        customers: int = 100,
        products: int = 20,
        orders: int = 200,
        seed: int = 1,
        owner_name: str | None = None,
        store_type: str = "live",
        anchor: float | None = None,
        history_days: int = 365,
    ) -> SandboxStore:
        """A generated store. Its records are made on demand from ``seed`` (same seed, same store); their history
        ends at ``anchor`` (epoch seconds; default a fixed date, 2026-11-01)."""
        with self.lock:
            if merchant_id in self.stores:
                raise ValueError(f"the sandbox already has a store {merchant_id}")
            extra = {} if anchor is None else {"anchor": anchor}
            data = StoreData(
                merchant_id=merchant_id,
                username=username,
                name=name,
                seed=seed,
                customers=customers,
                products=products,
                orders=orders,
                history_days=history_days,
                **extra,
            )
            rng = Rng(seed, merchant_id, 99)
            store = SandboxStore(
                data=data,
                owner_email=owner_email,
                owner_name=owner_name or f"{rng.pick(MALE_NAMES)[0]} {rng.pick(FAMILY_NAMES)[0]}",
                owner_mobile=f"+9665{rng.between(0, 99_999_999):08d}",
                plan=plan,
                store_type=store_type,
            )
            self.stores[merchant_id] = store
            return store

    def store(self, merchant_id: int) -> SandboxStore:
        with self.lock:
            found = self.stores.get(merchant_id)
            if found is None:
                raise KeyError(f"the sandbox has no store {merchant_id}")
            return found

    @property
    def authorizing_merchant(self) -> int | None:
        """The store that consents at ``/oauth2/auth``: set it, or it is the first store added."""
        with self.lock:
            if self._authorizing is not None:
                return self._authorizing
            return next(iter(self.stores), None)

    @authorizing_merchant.setter
    def authorizing_merchant(self, merchant_id: int | None) -> None:
        self._authorizing = merchant_id

    # ---- URLs and settings -----------------------------------------------------------------------------------

    @staticmethod
    def accounts_url(base_url: str) -> str:
        return f"{base_url.rstrip('/')}/accounts"

    @staticmethod
    def api_url(base_url: str) -> str:
        return f"{base_url.rstrip('/')}/admin/v2"

    def salla_settings(self, base_url: str, settings: SallaSettings | None = None) -> SallaSettings:
        """``settings`` (or the defaults) pointed at this sandbox served at ``base_url``."""
        return dataclasses.replace(
            settings or SallaSettings(),
            client_id=self.client_id,
            client_secret=self.client_secret,
            webhook_secret=self.webhook_secret,
            webhook_strategy=self.webhook_strategy,
            accounts_url=self.accounts_url(base_url),
            api_url=self.api_url(base_url),
        )

    # ---- tokens ----------------------------------------------------------------------------------------------

    def issue_tokens(
        self, merchant_id: int, expires_in: int | None = None, *, scope: str = DEFAULT_SCOPE
    ) -> dict[str, Any]:
        """Fresh tokens for a store, shaped like ``app.store.authorize``'s data (``expires`` is absolute)."""
        with self.lock:
            store = self.store(merchant_id)
            grant = self.tokens.issue(merchant_id, self.now(), expires_in=expires_in, scope=scope)
            store.last_grant = _authorize_data(grant)
            return dict(store.last_grant)

    def issue_code(self, merchant_id: int, redirect_uri: str, *, scope: str = DEFAULT_SCOPE) -> str:
        """An authorization code, as ``/oauth2/auth`` hands out."""
        with self.lock:
            self.store(merchant_id)
            return self.tokens.issue_code(
                merchant_id, self.now(), client_id=self.client_id, redirect_uri=redirect_uri, scope=scope
            )

    def install_redirect(self, merchant_id: int, redirect_uri: str, state: str | None = None) -> str:
        """The callback URL Salla sends a merchant to after installing from the App Store (custom mode): a fresh
        code, and Salla's own ``state`` (the app never started this flow)."""
        params = {"code": self.issue_code(merchant_id, redirect_uri), "scope": DEFAULT_SCOPE}
        if state is not None:
            params["state"] = state.replace("-", "")
        separator = "&" if "?" in redirect_uri else "?"
        return f"{redirect_uri}{separator}{urlencode(params)}"

    def exchange_code(self, code: str, redirect_uri: str) -> Grant:
        with self.lock:
            try:
                grant = self.tokens.exchange_code(code, self.now(), client_id=self.client_id, redirect_uri=redirect_uri)
            except GrantError as refused:
                self._count_refusal(refused)
                raise
            self.store(grant.merchant_id).last_grant = _authorize_data(grant)
            return grant

    def refresh(self, refresh_token: str) -> Grant:
        with self.lock:
            try:
                grant = self.tokens.refresh(refresh_token, self.now())
            except GrantError as refused:
                self._count_refusal(refused)
                raise
            store = self.store(grant.merchant_id)
            store.count_grant(refreshed=True)
            store.last_grant = _authorize_data(grant)
            return grant

    def _count_refusal(self, refused: GrantError) -> None:
        if refused.merchant_id in self.stores:
            self.stores[refused.merchant_id].count_grant(refused=True)

    def merchant_of(self, access_token: str) -> int | None:
        """The store an access token acts for; None when unknown, expired or revoked."""
        with self.lock:
            return self.tokens.merchant_of(access_token, self.now()) if access_token else None

    def revoke_tokens(self, merchant_id: int) -> None:
        """Every token of the store stops working (what uninstalling, or a reused refresh token, does)."""
        with self.lock:
            self.store(merchant_id)
            self.tokens.revoke_merchant(merchant_id)

    def expire_tokens(self, merchant_id: int) -> None:
        """Every access token of the store is expired from now on (refresh tokens still work)."""
        with self.lock:
            self.store(merchant_id)
            self.tokens.expire_access(merchant_id)

    # ---- limits and faults -----------------------------------------------------------------------------------

    def set_rate_limit(
        self,
        merchant_id: int,
        per_minute: int | None = None,
        customers_per_10_minutes: int | None = None,
        *,
        leak_per_second: float | None = None,
    ) -> None:
        """Override the plan's rate (None leaves a value as it is); ``leak_per_second=0`` turns the leak off."""
        with self.lock:
            self.store(merchant_id).limits.configure(
                per_minute=per_minute,
                customers_per_10_minutes=customers_per_10_minutes,
                leak_per_second=leak_per_second,
            )

    def storm(self, merchant_id: int, count: int = 10, status: int = 429, retry_after: int = 1) -> None:
        """The store's next ``count`` API requests answer ``status`` (429 with ``Retry-After``, or 500/502/503)."""
        if status not in {429, 500, 502, 503}:
            raise ValueError("a storm answers 429, 500, 502 or 503")
        if count < 1 or retry_after < 0:
            raise ValueError("count must be at least 1 and retry_after not negative")
        with self.lock:
            self.store(merchant_id).limits.faults.append(Fault(count, status, retry_after))

    def stats(self, merchant_id: int) -> SandboxStats:
        with self.lock:
            return self.store(merchant_id).stats()

    def reset_stats(self, merchant_id: int) -> None:
        with self.lock:
            self.store(merchant_id).reset_stats()

    # ---- webhooks --------------------------------------------------------------------------------------------

    def webhook(
        self,
        event: str,
        merchant_id: int,
        data: Any = None,
        created_at: str | float | datetime | None = None,
        *,
        strategy: str | None = None,
        secret: str | None = None,
        merchant_as_string: bool = False,
    ) -> tuple[bytes, dict[str, str]]:
        """The raw body and headers of one delivery, signed per the strategy (``data`` None: the event's usual
        data, made by `event_data`). ``secret`` and ``strategy`` override the sandbox's, for failure tests."""
        built = self.build_webhook(
            event,
            merchant_id,
            data,
            created_at,
            strategy=strategy,
            secret=secret,
            merchant_as_string=merchant_as_string,
        )
        return built.body, dict(built.headers)

    def build_webhook(
        self,
        event: str,
        merchant_id: int,
        data: Any = None,
        created_at: str | float | datetime | None = None,
        *,
        strategy: str | None = None,
        secret: str | None = None,
        merchant_as_string: bool = False,
    ) -> Webhook:
        with self.lock:
            payload = self.event_data(event, merchant_id) if data is None else data
            return webhooks.build_webhook(
                event,
                str(merchant_id) if merchant_as_string else merchant_id,
                payload,
                created_at=self._created_at(created_at),
                secret=self.webhook_secret if secret is None else secret,
                strategy=strategy or self.webhook_strategy,
            )

    def event_data(self, event: str, merchant_id: int, *, record_id: int | None = None, **fields: Any) -> Any:
        """The data Salla sends with ``event``: fresh tokens for ``app.store.authorize``, the record for store
        events (``record_id``, default the newest), the subscription for ``app.trial.*``/``app.subscription.*``
        (``fields`` override its values), ``{}`` for ``app.uninstalled``."""
        with self.lock:
            store, now = self.store(merchant_id), self.now()
            if event == "app.store.authorize":
                return self.issue_tokens(merchant_id)
            if event in {"app.installed", "app.updated"}:
                return webhooks.app_data(
                    store.data,
                    app_id=self.app_id,
                    app_name=self.app_name,
                    scope=DEFAULT_SCOPE,
                    store_type=store.store_type,
                    now=now,
                )
            if event == "app.uninstalled":
                return {}
            if event == "app.settings.updated":
                return {"settings": fields or {"assistant_enabled": "true", "greeting": "أهلاً بك"}}
            if event == "app.feedback.created":
                return {"rating": 5, "comment": "تطبيق ممتاز"} | fields
            if event.startswith(("app.trial.", "app.subscription.")):
                return webhooks.subscription_data(event, store_type=store.store_type, now=now, **fields)
            return self._record_event_data(store, event, record_id, now)

    def _record_event_data(self, store: SandboxStore, event: str, record_id: int | None, now: float) -> Any:
        kind = event.split(".", 1)[0]
        data = store.data
        if kind == "abandoned":
            return webhooks.abandoned_cart_data(data, record_id or _newest(data.customers.window(0, 1)), now=now)
        readers = {"customer": data.customer, "product": data.product, "order": data.order}
        if kind not in readers:
            raise ValueError(f"no default data for {event!r}: pass data= yourself")
        collection = {"customer": data.customers, "product": data.products, "order": data.orders}[kind]
        payload = readers[kind](record_id or _newest(collection.window(0, 1)))
        if payload is None:
            raise KeyError(f"no {kind} {record_id} in store {store.merchant_id}")
        return webhooks.record_data(payload)

    def _created_at(self, created_at: str | float | datetime | None) -> str:
        if isinstance(created_at, str):
            return created_at
        if isinstance(created_at, datetime):
            return created_at_text(created_at.timestamp(), self.created_at_style)
        return created_at_text(self.now() if created_at is None else created_at, self.created_at_style)

    async def deliver(
        self, url: str, body: bytes, headers: dict[str, str], transport: httpx.AsyncBaseTransport | None = None
    ) -> httpx.Response:
        """POST a delivery's exact bytes to ``url``."""
        return await webhooks.post(url, body, headers, transport=transport)

    async def emit(
        self,
        event: str,
        merchant_id: int,
        url: str | None = None,
        data: Any = None,
        *,
        created_at: str | float | datetime | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> Delivery:
        """Build and deliver one event to ``url`` (default: the store's webhook URL from `install`)."""
        built = self.build_webhook(event, merchant_id, data, created_at)
        target = url or self._webhook_url(merchant_id)
        return Delivery(built, target, await webhooks.post(target, built.body, built.headers, transport=transport))

    async def install(
        self,
        merchant_id: int,
        webhook_url: str,
        order: Iterable[str] = ("app.installed", "app.store.authorize"),
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> list[Delivery]:
        """What installing the app from the App Store sends (easy mode), in ``order``; ``app.store.authorize``
        carries fresh tokens (also in ``store(merchant_id).last_grant``). Remembers ``webhook_url`` for the
        store's later events."""
        with self.lock:
            self.store(merchant_id).webhook_url = webhook_url
        return [await self.emit(event, merchant_id, webhook_url, transport=transport) for event in order]

    async def uninstall(
        self, merchant_id: int, webhook_url: str, transport: httpx.AsyncBaseTransport | None = None
    ) -> Delivery:
        """Revoke the store's tokens and send ``app.uninstalled`` (empty data)."""
        self.revoke_tokens(merchant_id)
        return await self.emit("app.uninstalled", merchant_id, webhook_url, {}, transport=transport)

    def pending(self, merchant_id: int) -> list[Webhook]:
        """Webhooks the store's changes produced that `flush` has not delivered yet."""
        with self.lock:
            return list(self.store(merchant_id).outbox)

    async def flush(
        self, merchant_id: int, url: str | None = None, transport: httpx.AsyncBaseTransport | None = None
    ) -> list[Delivery]:
        """Deliver the pending webhooks in order, each to ``url`` (default: the store's webhook URL) and to the
        URL of every subscription (``POST /webhooks/subscribe``) to its event, with the subscription's headers."""
        with self.lock:
            store = self.store(merchant_id)
            queued, store.outbox = store.outbox, []
            subscriptions = list(store.subscriptions)
        deliveries = []
        for built in queued:
            for target, extra in self._targets(merchant_id, built.event, url, subscriptions):
                headers = built.headers | extra
                response = await webhooks.post(target, built.body, headers, transport=transport)
                deliveries.append(Delivery(built, target, response))
        return deliveries

    def _targets(
        self, merchant_id: int, event: str, url: str | None, subscriptions: list[dict[str, Any]]
    ) -> list[tuple[str, dict[str, str]]]:
        targets: dict[str, dict[str, str]] = {}
        main = url or self.store(merchant_id).webhook_url
        if main:
            targets[main] = {}
        for subscription in subscriptions:
            if subscription["event"] == event and subscription["url"] not in targets:
                targets[subscription["url"]] = {
                    str(h.get("key")): str(h.get("value")) for h in subscription["headers"] if isinstance(h, dict)
                }
        if not targets:
            raise ValueError(f"store {merchant_id} has no webhook URL: install it, or pass url=")
        return list(targets.items())

    def _webhook_url(self, merchant_id: int) -> str:
        with self.lock:
            found = self.store(merchant_id).webhook_url
        if not found:
            raise ValueError(f"store {merchant_id} has no webhook URL: install it, or pass url=")
        return found

    # ---- store changes (each queues the webhook Salla would send) --------------------------------------------

    def create_customer(self, merchant_id: int, **fields: Any) -> dict[str, Any]:
        return self._change(merchant_id, "customer.created", lambda s, now: s.data.create_customer(now, fields))

    def update_customer(self, merchant_id: int, customer_id: int, **fields: Any) -> dict[str, Any]:
        """Change a customer (``updated_at`` moves forward) and queue ``customer.updated``; returns the payload."""
        return self._change(
            merchant_id, "customer.updated", lambda s, now: s.data.update_customer(customer_id, now, fields)
        )

    def delete_customer(self, merchant_id: int, customer_id: int) -> dict[str, Any]:
        """Remove a customer (Salla sends no webhook for that)."""
        with self.lock:
            return self.store(merchant_id).data.delete_customer(customer_id)

    def create_product(self, merchant_id: int, **fields: Any) -> dict[str, Any]:
        return self._change(merchant_id, "product.created", lambda s, now: s.data.create_product(now, fields))

    def update_product(self, merchant_id: int, product_id: int, **fields: Any) -> dict[str, Any]:
        return self._change(
            merchant_id, "product.updated", lambda s, now: s.data.update_product(product_id, now, fields)
        )

    def delete_product(self, merchant_id: int, product_id: int) -> dict[str, Any]:
        return self._change(merchant_id, "product.deleted", lambda s, now: s.data.delete_product(product_id))

    def create_order(
        self, merchant_id: int, *, customer_id: int | None = None, status: str | None = None, **fields: Any
    ) -> dict[str, Any]:
        """A new order (now, status ``under_review`` unless given) for ``customer_id`` or a generated customer."""
        return self._change(
            merchant_id,
            "order.created",
            lambda s, now: s.data.create_order(now, customer_id=customer_id, status=status, fields=fields),
        )

    def update_order(
        self, merchant_id: int, order_id: int, *, status: str | None = None, **fields: Any
    ) -> dict[str, Any]:
        """Change an order; queues ``order.status.updated`` when the status changed, then ``order.updated``."""
        with self.lock:
            store = self.store(merchant_id)
            before = store.data.order_status_keys(order_id)[1]
            if status is not None and status != before:
                payload = store.data.update_order(order_id, self.now(), status=status, fields=fields)
                self._queue(store, "order.status.updated", payload)
                self._queue(store, "order.updated", payload)
                return payload
        return self._change(
            merchant_id,
            "order.updated",
            lambda s, now: s.data.update_order(order_id, now, status=status, fields=fields),
        )

    def delete_order(self, merchant_id: int, order_id: int) -> dict[str, Any]:
        return self._change(merchant_id, "order.deleted", lambda s, now: s.data.delete_order(order_id))

    def abandon_cart(self, merchant_id: int, customer_id: int | None = None) -> dict[str, Any]:
        """A customer leaves a cart at checkout: queues ``abandoned.cart`` and returns its data."""
        with self.lock:
            store = self.store(merchant_id)
            data = self.event_data("abandoned.cart", merchant_id, record_id=customer_id)
            store.outbox.append(self.build_webhook("abandoned.cart", merchant_id, data))
            return dict(data)

    def _change(
        self, merchant_id: int, event: str, change: Callable[[SandboxStore, float], dict[str, Any]]
    ) -> dict[str, Any]:
        with self.lock:
            store = self.store(merchant_id)
            payload = change(store, self.now())
            self._queue(store, event, payload)
            return payload

    def _queue(self, store: SandboxStore, event: str, payload: dict[str, Any]) -> None:
        store.outbox.append(self.build_webhook(event, store.merchant_id, webhooks.record_data(payload)))

    # ---- HTTP ------------------------------------------------------------------------------------------------

    @property
    def asgi(self) -> SandboxApp:
        """The sandbox as an ASGI app (``httpx.ASGITransport(app=sandbox.asgi)`` needs no server)."""
        return SandboxApp(self)

    def describe(self) -> dict[str, Any]:
        with self.lock:
            return {
                "sandbox": "salla",
                "stores": [
                    {"merchant_id": s.merchant_id, "username": s.username, "name": s.name, "plan": s.plan}
                    for s in self.stores.values()
                ],
                "now": local_text(self.now()),
            }


def _authorize_data(grant: Grant) -> dict[str, Any]:
    return {
        "access_token": grant.access_token,
        "expires": grant.expires,
        "refresh_token": grant.refresh_token,
        "scope": grant.scope,
        "token_type": "bearer",
    }


def _newest(ids: list[int]) -> int:
    if not ids:
        raise KeyError("the store has no such records")
    return ids[0]
