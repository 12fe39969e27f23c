"""Salla's Admin API v2 (``SALLA_API_URL``): customers, products, orders, order items, webhook subscriptions.

Every request: ``Authorization: Bearer <access token>`` (else 401 ``unauthorized``, no rate-limit headers: the
store is unknown), then an injected fault if one is pending, then the rate limits (429 ``too_many_requests`` with
``Retry-After``), then the answer. Every answer to a known store carries ``X-RateLimit-*``.

Lists: ``page`` (from 1) and ``per_page`` (default 15, larger than 60 is served as 60); ``pagination`` is
``{count, total, perPage, currentPage, totalPages, links}``, ``links`` holding ``next``/``previous`` URLs, or
``[]`` when there are none (PHP encodes an empty map as a list). Newest first.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from app.salla.sandbox.data import StoreData
from app.salla.sandbox.formats import RIYADH
from app.salla.sandbox.http import Request, Response, error, success
from app.salla.sandbox.ratelimit import Fault

if TYPE_CHECKING:
    from app.salla.sandbox.sandbox import Sandbox, SandboxStore

__all__ = ["MAX_PER_PAGE", "handle_admin"]

DEFAULT_PER_PAGE = 15
MAX_PER_PAGE = 60
_WEBHOOK_URL = re.compile(r"^https?://[^\s/]+")

Handler = Callable[["SandboxStore", Request, dict[str, str]], Response]


@dataclass(frozen=True)
class _Route:
    method: str
    pattern: re.Pattern[str]
    key: str
    """What `SandboxStats.by_path` counts it under."""
    handler: Handler
    customers: bool = False
    """Under the customers endpoints' own limit."""


def handle_admin(sandbox: Sandbox, request: Request) -> Response:
    merchant_id = sandbox.merchant_of(request.bearer_token())
    if merchant_id is None:
        return error(401, "The access token is invalid")
    store = sandbox.store(merchant_id)
    route, params = _match(request)
    fault, now = store.limits.next_fault(), sandbox.now()
    response = _injected(store, fault, now) if fault else _answer(store, request, route, params, now)
    store.count(route.key if route else "(unknown)", response.status)
    return response


def _answer(
    store: SandboxStore, request: Request, route: _Route | None, params: dict[str, str], now: float
) -> Response:
    decision = store.limits.take(now, customers=route is not None and route.customers)
    if not decision.allowed:
        response = error(429, "Too many requests. Retry after the time in Retry-After.")
    elif route is None:
        response = error(404, "The requested URL was not found.")
    else:
        response = route.handler(store, request, params)
    response.headers |= decision.headers()
    return response


def _injected(store: SandboxStore, fault: Fault, now: float) -> Response:
    """A storm's answer: it spends none of the budget, and a 429 says to wait ``retry_after``."""
    response = error(fault.status, "Injected by the sandbox.")
    response.headers |= store.limits.peek(now).headers()
    if fault.status == 429:
        response.headers |= {"X-RateLimit-Remaining": "0", "Retry-After": str(fault.retry_after)}
    return response


def _match(request: Request) -> tuple[_Route | None, dict[str, str]]:
    path = request.path.rstrip("/") or "/"
    for route in _ROUTES:
        found = route.pattern.fullmatch(path)
        if found and route.method == request.method:
            return route, found.groupdict()
    return None, {}


# ---- customers --------------------------------------------------------------------------------------------------


def _list_customers(store: SandboxStore, request: Request, _: dict[str, str]) -> Response:
    data = store.data
    keyword = request.query.get("keyword", "").strip()
    if keyword:

        def matches(customer_id: int) -> bool:
            customer = data.customer(customer_id)
            return customer is not None and data.customer_matches(customer, keyword)

        return _paged(request, data.ids_where(data.customers, matches), data.customer)
    return _paged_collection(request, data, "customers", data.customer)


def _show_customer(store: SandboxStore, _: Request, params: dict[str, str]) -> Response:
    return _one(store.data.customer(int(params["id"])), "customer")


# ---- products ---------------------------------------------------------------------------------------------------


def _list_products(store: SandboxStore, request: Request, _: dict[str, str]) -> Response:
    data, query = store.data, request.query
    light = query.get("format") == "light"
    show: Callable[[int], dict[str, Any] | None] = data.product
    if light:

        def show(product_id: int) -> dict[str, Any] | None:
            product = data.product(product_id)
            return None if product is None else StoreData.light_product(product)

    keyword, status, category = query.get("keyword", "").strip().lower(), query.get("status", ""), query.get("category")
    if status and status not in {"hidden", "sale", "out"}:
        return error(422, "alert.invalid_fields", fields={"status": ["The status must be one of hidden, sale, out."]})
    if not (keyword or status or category):
        return _paged_collection(request, data, "products", show)

    def matches(product_id: int) -> bool:
        product = data.product(product_id)
        if product is None:
            return False
        if keyword and keyword not in product["name"].lower() and keyword not in product["sku"].lower():
            return False
        if status and product["status"] != status:
            return False
        return not category or any(str(c["id"]) == category for c in product["categories"])

    return _paged(request, data.ids_where(data.products, matches), show)


def _show_product(store: SandboxStore, _: Request, params: dict[str, str]) -> Response:
    return _one(store.data.product(int(params["id"])), "product")


# ---- orders -----------------------------------------------------------------------------------------------------


def _list_orders(store: SandboxStore, request: Request, _: dict[str, str]) -> Response:
    data, query = store.data, request.query
    try:
        start = _day_start(query.get("from_date", ""))
        end = _day_start(query.get("to_date", ""))
    except ValueError:
        return error(422, "alert.invalid_fields", fields={"from_date": ["The dates must be YYYY-MM-DD."]})
    customer_id, status = query.get("customer_id", ""), query.get("status", "")
    if not (start or end or customer_id or status):
        return _paged_collection(request, data, "orders", data.order_summary)

    def matches(order_id: int) -> bool:
        created = data.order_created(order_id) or 0.0
        if start is not None and created < start:
            return False
        if end is not None and created >= end + 86_400:
            return False
        if customer_id and str(data.order_customer_id(order_id)) != customer_id:
            return False
        return not status or status in data.order_status_keys(order_id)

    return _paged(request, data.ids_where(data.orders, matches), data.order_summary)


def _day_start(text: str) -> float | None:
    if not text:
        return None
    day = date.fromisoformat(text)
    return datetime(day.year, day.month, day.day, tzinfo=RIYADH).timestamp()


def _show_order(store: SandboxStore, _: Request, params: dict[str, str]) -> Response:
    return _one(store.data.order(int(params["id"])), "order")


def _order_items(store: SandboxStore, request: Request, _: dict[str, str]) -> Response:
    order_id = request.query.get("order_id", "")
    if not order_id.isdigit():
        return error(422, "alert.invalid_fields", fields={"order_id": ["The order id field is required."]})
    order = store.data.order(int(order_id))
    if order is None:
        return error(404, "The order does not exist.")
    return success(order["items"])


# ---- webhooks ---------------------------------------------------------------------------------------------------


def _subscribe(store: SandboxStore, request: Request, _: dict[str, str]) -> Response:
    try:
        body = request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return error(422, "alert.invalid_fields", fields={"body": ["A JSON object is required."]})
    problems = _subscription_problems(body)
    if problems:
        return error(422, "alert.invalid_fields", fields=problems)
    return success(store.subscribe(body), status=201)


def _subscription_problems(body: dict[str, Any]) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    for name in ("name", "event", "url"):
        if not isinstance(body.get(name), str) or not body[name].strip():
            problems[name] = [f"The {name} field is required."]
    if "url" not in problems and not _WEBHOOK_URL.match(body["url"]):
        problems["url"] = ["The url must be a valid URL."]
    if body.get("version", 2) not in {1, 2, "1", "2"}:
        problems["version"] = ["The version must be 1 or 2."]
    return problems


def _list_webhooks(store: SandboxStore, _: Request, __: dict[str, str]) -> Response:
    return success(store.subscriptions)


# ---- shared -----------------------------------------------------------------------------------------------------


def _one(payload: dict[str, Any] | None, kind: str) -> Response:
    if payload is None:
        return error(404, f"The {kind} does not exist.")
    return success(payload)


def _page_params(query: dict[str, str]) -> tuple[int, int]:
    page = int(query["page"]) if query.get("page", "").isdigit() and int(query["page"]) >= 1 else 1
    per_page = DEFAULT_PER_PAGE
    if query.get("per_page", "").isdigit() and int(query["per_page"]) >= 1:
        per_page = min(int(query["per_page"]), MAX_PER_PAGE)
    return page, per_page


def _paged_collection(
    request: Request, data: StoreData, kind: str, show: Callable[[int], dict[str, Any] | None]
) -> Response:
    collection = getattr(data, kind)
    page, per_page = _page_params(request.query)
    ids = collection.window((page - 1) * per_page, per_page)
    return _page_response(request, [show(record_id) for record_id in ids], collection.count(), page, per_page)


def _paged(request: Request, ids: list[int], show: Callable[[int], dict[str, Any] | None]) -> Response:
    page, per_page = _page_params(request.query)
    window = ids[(page - 1) * per_page : page * per_page]
    return _page_response(request, [show(record_id) for record_id in window], len(ids), page, per_page)


def _page_response(request: Request, items: list[Any], total: int, page: int, per_page: int) -> Response:
    records = [item for item in items if item is not None]
    total_pages = max(1, math.ceil(total / per_page))
    links: dict[str, str] = {}
    if page < total_pages:
        links["next"] = _page_url(request, page + 1)
    if 1 < page <= total_pages:
        links["previous"] = _page_url(request, page - 1)
    pagination: dict[str, Any] = {
        "count": len(records),
        "total": total,
        "perPage": per_page,
        "currentPage": page,
        "totalPages": total_pages,
        "links": links or [],
    }
    return success(records, pagination=pagination)


def _page_url(request: Request, page: int) -> str:
    query = dict(request.query) | {"page": str(page)}
    return f"{request.root}{request.path}?{urlencode(query)}"


_ID = r"(?P<id>[0-9]+)"
_ROUTES = (
    _Route("GET", re.compile(r"/customers"), "/customers", _list_customers, customers=True),
    _Route("GET", re.compile(rf"/customers/{_ID}"), "/customers/{id}", _show_customer, customers=True),
    _Route("GET", re.compile(r"/products"), "/products", _list_products),
    _Route("GET", re.compile(rf"/products/{_ID}"), "/products/{id}", _show_product),
    _Route("GET", re.compile(r"/orders"), "/orders", _list_orders),
    _Route("GET", re.compile(r"/orders/items"), "/orders/items", _order_items),
    _Route("GET", re.compile(rf"/orders/{_ID}"), "/orders/{id}", _show_order),
    _Route("POST", re.compile(r"/webhooks/subscribe"), "/webhooks/subscribe", _subscribe),
    _Route("GET", re.compile(r"/webhooks"), "/webhooks", _list_webhooks),
)
