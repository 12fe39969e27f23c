"""The rules of the dashboard's home figures: which figures, over which period, in which currency.

- The period is the last ``PERIOD_DAYS`` calendar days in the workspace's time zone, today included, so the chart
  has one whole day per bar. Orders count by ``ordered_at`` (when the customer ordered, not when the CRM heard).
- Revenue is the sum of order totals in the workspace's currency (SAR by default); an order in another currency is
  counted as an order but not added to the revenue (no silent conversion).
- Customers are the live people; "new" ones were created in the period.
- Open deals are opportunities in any stage but won (``customer``) or lost, or with no stage yet.
- Tasks due are open tasks (not done) due within ``TASK_HORIZON_DAYS`` days, overdue ones included.
- Recent activity is the newest timeline events across objects (order items are shown inside their orders).
Deleted records never count.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from app.crm import figures_store
from app.crm.metadata import Catalogue
from app.crm.records import records_by_ids
from app.lib.i18n import DEFAULT_TIMEZONE

__all__ = [
    "ACTIVITY_SHOWN",
    "CLOSED_STAGES",
    "PERIOD_DAYS",
    "TASK_HORIZON_DAYS",
    "Activity",
    "Day",
    "DueTask",
    "HomeFigures",
    "TopProduct",
    "home_figures",
    "recent_activity",
]

PERIOD_DAYS = 30
TASK_HORIZON_DAYS = 7
CLOSED_STAGES = ("customer", "lost")
TOP_PRODUCTS = 5
TASKS_SHOWN = 6
ACTIVITY_SHOWN = 10
HIDDEN_FROM_ACTIVITY = ("order_items",)
DEFAULT_CURRENCY = "SAR"


@dataclass(frozen=True)
class Day:
    day: dt.date
    orders: int
    revenue_minor: int


@dataclass(frozen=True)
class TopProduct:
    product_id: str | None
    """The product record to link to; None when the item has no product or the product was deleted."""
    name: str
    quantity: int
    revenue_minor: int


@dataclass(frozen=True)
class DueTask:
    id: str
    title: str
    status: str | None
    due_at: dt.datetime
    overdue: bool


@dataclass(frozen=True)
class Activity:
    object_name: str
    record_id: str
    kind: str
    """created, updated, deleted, restored, linked, or what another domain writes (with a summary)."""
    happened_at: dt.datetime
    actor_source: str
    actor_name: str | None
    changed: tuple[str, ...]
    """The names of the fields an update changed."""
    summary: str
    record: dict[str, Any] | None
    """The record in API shape while it is live; None once deleted."""
    other_object: str | None = None
    other_record: dict[str, Any] | None = None
    """For a link: the record at the other end (live), else None."""


@dataclass(frozen=True)
class HomeFigures:
    currency: str
    timezone: str
    today: dt.date
    period_start: dt.date
    customers: int
    new_customers: int
    orders: int
    revenue_minor: int
    days: list[Day]
    """One entry per day of the period, oldest first; days without orders are zeros."""
    top_products: list[TopProduct]
    open_deals: int
    open_deals_amount_minor: int
    tasks_due: int
    tasks_overdue: int
    tasks: list[DueTask]
    activity: list[Activity] = field(default_factory=list)


@dataclass(frozen=True)
class _Sales:
    """The figures that only change when records change (or the day does): what the cache keeps."""

    customers: int
    new_customers: int
    days: list[Day]
    top_products: list[TopProduct]
    open_deals: int
    open_deals_amount_minor: int


@dataclass(frozen=True)
class _Cached:
    key: tuple[dt.date, str, str, int]
    at: float
    sales: _Sales


_cache: OrderedDict[str, _Cached] = OrderedDict()
"""Per tenant (most recently used last): the figures computed at a change marker. Counting 100k customers and
summing a month of order items costs tens of milliseconds; reading the marker costs one index lookup."""
CACHE_SECONDS = 60.0
"""Even with the marker unchanged, figures are recomputed after this long: two writes that commit out of the
order of their event ids could otherwise hide the later-committed one until the next change."""
CACHE_TENANTS = 512


def _zone(name: str | None) -> tuple[str, ZoneInfo]:
    try:
        return (name or DEFAULT_TIMEZONE), ZoneInfo(name or DEFAULT_TIMEZONE)
    except (KeyError, ValueError):
        return DEFAULT_TIMEZONE, ZoneInfo(DEFAULT_TIMEZONE)


async def home_figures(
    connection: asyncpg.Connection,
    catalogue: Catalogue,
    *,
    cache_key: str | None = None,
    now: dt.datetime | None = None,
) -> HomeFigures:
    """Every figure of the home page, in a handful of indexed queries on one connection. With ``cache_key`` (the
    tenant's id), the counts and sales are reused while no record has changed (and for at most a minute)."""
    now = now or dt.datetime.now(dt.UTC)
    workspace = await figures_store.fetch_workspace(connection)
    currency = (workspace["default_currency"] if workspace else None) or DEFAULT_CURRENCY
    timezone, zone = _zone(workspace["timezone"] if workspace else None)

    today = now.astimezone(zone).date()
    first_day = today - dt.timedelta(days=PERIOD_DAYS - 1)
    since = dt.datetime.combine(first_day, dt.time(), tzinfo=zone)
    until = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    due_before = now + dt.timedelta(days=TASK_HORIZON_DAYS)

    async def compute() -> _Sales:
        return await _sales(
            connection, first_day=first_day, since=since, until=until, timezone=timezone, currency=currency
        )

    if cache_key is None:
        sales = await compute()
    else:
        marker = await figures_store.fetch_change_marker(connection)
        sales = await _cached(cache_key, (today, timezone, currency, marker), compute)

    task_rows = await figures_store.fetch_tasks_due(connection, now=now, due_before=due_before, limit=TASKS_SHOWN)
    return HomeFigures(
        currency=currency,
        timezone=timezone,
        today=today,
        period_start=first_day,
        customers=sales.customers,
        new_customers=sales.new_customers,
        orders=sum(day.orders for day in sales.days),
        revenue_minor=sum(day.revenue_minor for day in sales.days),
        days=sales.days,
        top_products=sales.top_products,
        open_deals=sales.open_deals,
        open_deals_amount_minor=sales.open_deals_amount_minor,
        tasks_due=int(task_rows[0]["total"]) if task_rows else 0,
        tasks_overdue=int(task_rows[0]["overdue"]) if task_rows else 0,
        tasks=[
            DueTask(
                id=str(row["id"]),
                title=row["title"] or "",
                status=row["status"],
                due_at=row["due_at"],
                overdue=row["due_at"] < now,
            )
            for row in task_rows
        ],
        activity=await recent_activity(connection, catalogue),
    )


async def _cached(
    cache_key: str, key: tuple[dt.date, str, str, int], compute: Callable[[], Awaitable[_Sales]]
) -> _Sales:
    cached = _cache.get(cache_key)
    if cached is not None and cached.key == key and time.monotonic() - cached.at < CACHE_SECONDS:
        _cache.move_to_end(cache_key)
        return cached.sales
    sales = await compute()
    _cache[cache_key] = _Cached(key=key, at=time.monotonic(), sales=sales)
    _cache.move_to_end(cache_key)
    while len(_cache) > CACHE_TENANTS:
        _cache.popitem(last=False)
    return sales


async def _sales(
    connection: asyncpg.Connection,
    *,
    first_day: dt.date,
    since: dt.datetime,
    until: dt.datetime,
    timezone: str,
    currency: str,
) -> _Sales:
    summary = await figures_store.fetch_summary(connection, since=since, closed_stages=CLOSED_STAGES, currency=currency)
    per_day = {
        row["day"]: row
        for row in await figures_store.fetch_daily_orders(
            connection, since=since, until=until, timezone=timezone, currency=currency
        )
    }
    days = []
    for day in (first_day + dt.timedelta(days=n) for n in range(PERIOD_DAYS)):
        row = per_day.get(day)
        days.append(
            Day(day=day, orders=int(row["orders"]) if row else 0, revenue_minor=int(row["revenue"]) if row else 0)
        )
    top = [
        TopProduct(
            product_id=str(row["product_id"]) if row["product_id"] and row["product_live"] else None,
            name=row["name"] or "",
            quantity=int(row["quantity"]),
            revenue_minor=int(row["revenue"]),
        )
        for row in await figures_store.fetch_top_products(
            connection, since=since, until=until, currency=currency, limit=TOP_PRODUCTS
        )
    ]
    return _Sales(
        customers=int(summary["customers"]),
        new_customers=int(summary["new_customers"]),
        days=days,
        top_products=top,
        open_deals=int(summary["open_deals"]),
        open_deals_amount_minor=int(summary["open_deals_amount"]),
    )


async def recent_activity(
    connection: asyncpg.Connection, catalogue: Catalogue, *, limit: int = ACTIVITY_SHOWN
) -> list[Activity]:
    """The newest timeline events with their records (one query per object for the records, never per event)."""
    events = await figures_store.fetch_recent_events(connection, hidden_objects=HIDDEN_FROM_ACTIVITY, limit=limit)
    wanted: dict[str, set[uuid.UUID]] = {}
    parsed: list[tuple[asyncpg.Record, dict[str, Any]]] = []
    for event in events:
        diff = json.loads(event["diff"]) if event["diff"] else {}
        diff = diff if isinstance(diff, dict) else {}
        parsed.append((event, diff))
        if catalogue.get(event["object_name"]) is not None:
            wanted.setdefault(event["object_name"], set()).add(event["record_id"])
        other = _linked_to(event["kind"], diff, catalogue)
        if other is not None:
            wanted.setdefault(other[0], set()).add(other[1])
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for name, ids in wanted.items():
        obj = catalogue.get(name)
        assert obj is not None
        for record in await records_by_ids(connection, obj, list(ids)):
            found[(name, record["id"])] = record
    activity = []
    for event, diff in parsed:
        other = _linked_to(event["kind"], diff, catalogue)
        activity.append(
            Activity(
                object_name=event["object_name"],
                record_id=str(event["record_id"]),
                kind=event["kind"],
                happened_at=event["happened_at"],
                actor_source=event["actor_source"],
                actor_name=event["actor_name"],
                changed=tuple(diff) if event["kind"] == "updated" else (),
                summary=event["summary"] or "",
                record=found.get((event["object_name"], str(event["record_id"]))),
                other_object=other[0] if other else None,
                other_record=found.get((other[0], str(other[1]))) if other else None,
            )
        )
    return activity


def _linked_to(kind: str, diff: dict[str, Any], catalogue: Catalogue) -> tuple[str, uuid.UUID] | None:
    """The other record of a ``linked`` event (its diff names the object and id)."""
    if kind != "linked" or catalogue.get(str(diff.get("object"))) is None:
        return None
    try:
        return str(diff["object"]), uuid.UUID(str(diff.get("id")))
    except ValueError:
        return None
