"""SQL of the dashboard's home figures: a few aggregate statements over the standard objects and the timeline.

Every statement is served by an index (migrations 0002, 0004 and 0008): people by creation time, orders by
``ordered_at``, order items by order, open tasks by due time, the timeline by time. Soft-deleted rows never count.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import asyncpg

__all__ = [
    "fetch_change_marker",
    "fetch_daily_orders",
    "fetch_recent_events",
    "fetch_summary",
    "fetch_tasks_due",
    "fetch_top_products",
    "fetch_workspace",
]


async def fetch_workspace(connection: asyncpg.Connection) -> asyncpg.Record | None:
    """The workspace's currency and time zone."""
    row: asyncpg.Record | None = await connection.fetchrow("SELECT default_currency, timezone FROM workspace")
    return row


async def fetch_change_marker(connection: asyncpg.Connection) -> int:
    """The newest timeline event's id: every change of a record through the engine (records, imports, merges)
    writes an event, so figures computed at one marker still hold while it stays the same."""
    marker: int = await connection.fetchval("SELECT coalesce(max(id), 0) FROM timeline_events")
    return marker


async def fetch_summary(
    connection: asyncpg.Connection, *, since: dt.datetime, closed_stages: Sequence[str], currency: str
) -> asyncpg.Record:
    """Counts in one round trip: customers (all, and created since ``since``, in one index-only scan) and open
    deals (count, and amount in ``currency``)."""
    row: asyncpg.Record = await connection.fetchrow(
        "WITH people_count AS ("
        "  SELECT count(*) AS customers, count(*) FILTER (WHERE created_at >= $1) AS new_customers"
        "  FROM people WHERE deleted_at IS NULL"
        "), deals AS ("
        "  SELECT count(*) AS open_deals,"
        "         coalesce(sum(amount_amount_minor) FILTER (WHERE coalesce(amount_currency, $3) = $3), 0)"
        "           AS open_deals_amount"
        "  FROM opportunities WHERE deleted_at IS NULL AND (stage IS NULL OR stage <> ALL($2::text[]))"
        ") "
        "SELECT people_count.customers, people_count.new_customers, deals.open_deals, deals.open_deals_amount "
        "FROM people_count, deals",
        since,
        list(closed_stages),
        currency,
    )
    return row


async def fetch_daily_orders(
    connection: asyncpg.Connection, *, since: dt.datetime, until: dt.datetime, timezone: str, currency: str
) -> Sequence[asyncpg.Record]:
    """Per day (in ``timezone``) of orders placed in [since, until): how many, and their total in ``currency``."""
    rows: Sequence[asyncpg.Record] = await connection.fetch(
        "SELECT (ordered_at AT TIME ZONE $3)::date AS day, count(*) AS orders,"
        "       coalesce(sum(total_amount_minor) FILTER (WHERE coalesce(total_currency, $4) = $4), 0) AS revenue "
        "FROM orders WHERE deleted_at IS NULL AND ordered_at >= $1 AND ordered_at < $2 "
        "GROUP BY 1 ORDER BY 1",
        since,
        until,
        timezone,
        currency,
    )
    return rows


async def fetch_top_products(
    connection: asyncpg.Connection, *, since: dt.datetime, until: dt.datetime, currency: str, limit: int
) -> Sequence[asyncpg.Record]:
    """The best sellers among the items of orders placed in [since, until): by quantity, then revenue (item totals
    in ``currency``). An item without a product is grouped by its own name. The product's current name wins over
    the item's; ``product_live`` says whether the product record still exists."""
    rows: Sequence[asyncpg.Record] = await connection.fetch(
        "WITH sold AS ("
        "  SELECT oi.product, CASE WHEN oi.product IS NULL THEN oi.name END AS loose_name,"
        "         max(oi.name) AS item_name, sum(coalesce(oi.quantity, 1)) AS quantity,"
        "         coalesce(sum(coalesce(oi.total_amount_minor, oi.unit_price_amount_minor * coalesce(oi.quantity, 1)))"
        "           FILTER (WHERE coalesce(oi.total_currency, oi.unit_price_currency, $3) = $3), 0) AS revenue"
        '  FROM orders o JOIN order_items oi ON oi."order" = o.id'
        "  WHERE o.deleted_at IS NULL AND o.ordered_at >= $1 AND o.ordered_at < $2 AND oi.deleted_at IS NULL"
        "    AND (oi.product IS NOT NULL OR oi.name IS NOT NULL)"
        "  GROUP BY 1, 2 ORDER BY quantity DESC, revenue DESC, item_name LIMIT $4"
        ") "
        "SELECT sold.product AS product_id, p.id IS NOT NULL AS product_live,"
        "       coalesce(p.name, sold.item_name) AS name, sold.quantity, sold.revenue "
        "FROM sold LEFT JOIN products p ON p.id = sold.product AND p.deleted_at IS NULL "
        "ORDER BY sold.quantity DESC, sold.revenue DESC, name",
        since,
        until,
        currency,
        limit,
    )
    return rows


async def fetch_tasks_due(
    connection: asyncpg.Connection, *, now: dt.datetime, due_before: dt.datetime, limit: int
) -> Sequence[asyncpg.Record]:
    """Open tasks (not done) due before ``due_before``, the most urgent first (overdue ones included); each row
    also carries how many there are in all (``total``) and how many are overdue at ``now`` (``overdue``)."""
    rows: Sequence[asyncpg.Record] = await connection.fetch(
        "SELECT id, title, status, due_at, count(*) OVER () AS total,"
        "       count(*) FILTER (WHERE due_at < $1) OVER () AS overdue "
        "FROM tasks WHERE deleted_at IS NULL AND status IS DISTINCT FROM 'done' AND due_at < $2 "
        "ORDER BY due_at, id LIMIT $3",
        now,
        due_before,
        limit,
    )
    return rows


async def fetch_recent_events(
    connection: asyncpg.Connection, *, hidden_objects: Sequence[str], limit: int
) -> Sequence[asyncpg.Record]:
    """The newest timeline events across every object except ``hidden_objects``."""
    rows: Sequence[asyncpg.Record] = await connection.fetch(
        "SELECT id, object_name, record_id, happened_at, kind, actor_source, actor_id, actor_name,"
        "       diff::text AS diff, summary "
        "FROM timeline_events WHERE object_name <> ALL($1::text[]) "
        "ORDER BY happened_at DESC, id DESC LIMIT $2",
        list(hidden_objects),
        limit,
    )
    return rows
