"""The dashboard's home figures at merchant scale: 100k customers and 100k orders (with their items) in one tenant.

    python -m bench.home [--people 100000] [--orders 100000] [--runs 100]

Measures the p50/p95 of `app.crm.figures.home_figures` (every figure of the home page: counts, 30 days of orders
and revenue per day, top products, open deals, tasks due, recent activity with record titles) on one connection,
sequentially. Orders are spread over a year, so about 8% fall in the last 30 days; every record has a "created"
timeline event. Creates its own registry and tenant (bench/tenant.py) and drops them at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from datetime import time as dt_time
from zoneinfo import ZoneInfo

import asyncpg

from app.crm import figures_store
from app.crm.figures import home_figures, recent_activity
from app.crm.metadata import load_catalogue
from app.tenancy import runtime
from bench.crm import people_rows, percentile, timed
from bench.tenant import bench_tenant


async def seed(connection: asyncpg.Connection, people: int, orders: int) -> None:
    rng = random.Random(5)
    rows = people_rows(people, rng)
    await connection.copy_records_to_table(
        "people", records=rows,
        columns=["id", "created_at", "updated_at", "first_name", "last_name", "email_primary", "phone_primary",
                 "city", "country", "search_text"],
    )  # fmt: skip
    person_ids = [row[0] for row in rows]
    now = datetime.now(UTC)
    products = [(uuid.uuid4(), f"Product {n}") for n in range(1000)]
    await connection.copy_records_to_table("products", records=products, columns=["id", "name"])
    order_rows, item_rows = [], []
    for n in range(orders):
        order_id = uuid.uuid4()
        total = rng.randrange(500, 500000)
        order_rows.append((
            order_id, str(100000 + n), total, "SAR", rng.choice(person_ids),
            now - timedelta(minutes=rng.randrange(0, 525600)), None if n % 50 else now,
        ))  # fmt: skip
        for _ in range(rng.randrange(1, 5)):
            product_id, name = rng.choice(products)
            item_rows.append((uuid.uuid4(), order_id, product_id, name, rng.randrange(1, 4), total, "SAR"))
    await connection.copy_records_to_table(
        "orders", records=order_rows,
        columns=["id", "reference", "total_amount_minor", "total_currency", "customer", "ordered_at", "deleted_at"],
    )  # fmt: skip
    await connection.copy_records_to_table(
        "order_items", records=item_rows,
        columns=["id", "order", "product", "name", "quantity", "total_amount_minor", "total_currency"],
    )  # fmt: skip
    stages = ["new", "screening", "meeting", "proposal", "customer", "lost"]
    await connection.copy_records_to_table(
        "opportunities",
        records=[
            (uuid.uuid4(), f"Deal {n}", rng.choice(stages), rng.randrange(1000, 10**7), "SAR") for n in range(5000)
        ],
        columns=["id", "name", "stage", "amount_amount_minor", "amount_currency"],
    )  # fmt: skip
    statuses = ["todo", "in_progress", "done", "done", "done"]
    await connection.copy_records_to_table(
        "tasks",
        records=[
            (uuid.uuid4(), f"Task {n}", rng.choice(statuses), now + timedelta(hours=rng.randrange(-2000, 2000)))
            for n in range(10000)
        ],
        columns=["id", "title", "status", "due_at"],
    )  # fmt: skip
    for table in ("people", "orders", "opportunities", "tasks"):
        await connection.execute(
            "INSERT INTO timeline_events (object_name, record_id, happened_at, kind, actor_source) "
            f"SELECT '{table}', id, created_at, 'created', 'import' FROM {table}"
        )
    await connection.execute("VACUUM ANALYZE")


async def main(people: int, orders: int, runs: int) -> None:
    async with bench_tenant("bench-home") as database, runtime.pools().connection(database) as connection:
        started = time.perf_counter()
        await seed(connection, people, orders)
        print(f"seeded {people} people, {orders} orders in {time.perf_counter() - started:.1f} s")
        catalogue = await load_catalogue(connection)
        now = datetime.now(UTC)
        zone = ZoneInfo("Asia/Riyadh")
        first_day = now.astimezone(zone).date() - timedelta(days=29)
        since = datetime.combine(first_day, dt_time(), tzinfo=zone)
        until = since + timedelta(days=30)
        measures: list[tuple[str, Callable[[int], Awaitable[object]]]] = [
            ("home figures, computed", lambda _run: home_figures(connection, catalogue)),
            ("home figures, nothing changed since (cached)", lambda _run: home_figures(connection, catalogue,
                                                                                       cache_key="bench")),
            ("- customers and open deals", lambda _run: figures_store.fetch_summary(
                connection, since=since, closed_stages=("customer", "lost"), currency="SAR")),
            ("- orders and revenue per day", lambda _run: figures_store.fetch_daily_orders(
                connection, since=since, until=until, timezone="Asia/Riyadh", currency="SAR")),
            ("- top products", lambda _run: figures_store.fetch_top_products(
                connection, since=since, until=until, currency="SAR", limit=5)),
            ("- tasks due", lambda _run: figures_store.fetch_tasks_due(
                connection, now=now, due_before=now + timedelta(days=7), limit=6)),
            ("- recent activity with titles", lambda _run: recent_activity(connection, catalogue)),
        ]  # fmt: skip
        print(f"{runs} runs each, sequential, one connection")
        print("| measure | p50 | p95 |")
        print("| --- | --- | --- |")
        for label, work in measures:
            await timed(5, work)
            samples = await timed(runs, work)
            print(f"| {label} | {statistics.median(samples):.1f} ms | {percentile(samples, 0.95):.1f} ms |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=100)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.people, arguments.orders, arguments.runs))
