"""The CRM engine at merchant scale: 100k customers, 10k products and 200k orders in one tenant.

    python -m bench.crm [--people 100000] [--products 10000] [--orders 200000] [--runs 300]

Measures, side by side in one run, the p50/p95 of: a filtered, sorted 50-row page through the query layer
(app.crm.records.list_records_by) and the same query written by hand; a page of orders filtered by amount and
sorted by date; and global search (app.crm.search.search_everything) for names, Arabic spelling variants and
phone fragments. Uses the PostgreSQL at WOSOOL_BENCH_DATABASE_URL (default: the local service); creates its own
registry and tenant and drops them at the end.
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

import asyncpg

from app.crm import query
from app.crm.metadata import load_catalogue
from app.crm.records import list_records_by
from app.crm.search import search_everything
from app.crm.search_text import search_text
from app.tenancy import runtime
from bench.tenant import bench_tenant

FIRST = ["أحمد", "محمد", "فاطمة", "نورة", "سارة", "عبدالله", "ليلى", "Omar", "Sara", "Lina", "Khalid", "Huda"]
LAST = ["الغامدي", "القحطاني", "العتيبي", "الشهري", "الحربي", "Al-Saud", "Haddad", "Nasser", "Farouk"]
CITIES = ["الرياض", "جدة", "الدمام", "مكة", "المدينة", "الخبر", "Riyadh", "Jeddah", None]
PRODUCTS = ["دهن عود", "مسك", "عنبر", "بخور", "عطر ورد", "Oud oil", "Musk", "Amber", "Rose water"]
STATUSES = ["under_review", "in_progress", "shipped", "delivered", "completed", "canceled"]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def timed(runs: int, work: Callable[[int], Awaitable[object]]) -> list[float]:
    samples = []
    for run in range(runs):
        started = time.perf_counter()
        await work(run)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def people_rows(count: int, rng: random.Random) -> list[tuple[object, ...]]:
    now = datetime.now(UTC)
    rows = []
    for n in range(count):
        first, last, city = rng.choice(FIRST), rng.choice(LAST), rng.choice(CITIES)
        phone = f"+9665{rng.randrange(10_000_000, 99_999_999)}"
        email = f"customer{n}@example.com"
        text = search_text([first, last, email, city], phones=[phone])
        rows.append((uuid.uuid4(), now - timedelta(minutes=n), now, first, last, email, phone, city, "SA", text))
    return rows


async def seed(connection: asyncpg.Connection, people: int, products: int, orders: int) -> list[uuid.UUID]:
    rng = random.Random(7)
    rows = people_rows(people, rng)
    await connection.copy_records_to_table(
        "people",
        records=rows,
        columns=["id", "created_at", "updated_at", "first_name", "last_name", "email_primary", "phone_primary",
                 "city", "country", "search_text"],
    )  # fmt: skip
    person_ids = [row[0] for row in rows]
    now = datetime.now(UTC)
    product_rows = []
    for n in range(products):
        name = f"{rng.choice(PRODUCTS)} {n}"
        product_rows.append(
            (uuid.uuid4(), name, f"SKU-{n}", rng.randrange(1000, 90000), "SAR", search_text([name, f"SKU-{n}"]))
        )
    await connection.copy_records_to_table(
        "products", records=product_rows,
        columns=["id", "name", "sku", "price_amount_minor", "price_currency", "search_text"],
    )  # fmt: skip
    order_rows = []
    for n in range(orders):
        reference = str(100000 + n)
        order_rows.append((
            uuid.uuid4(), reference, rng.choice(STATUSES), rng.randrange(500, 500000), "SAR", rng.choice(person_ids),
            now - timedelta(minutes=rng.randrange(0, 525600)), rng.randrange(1, 6), search_text([reference]),
        ))  # fmt: skip
    await connection.copy_records_to_table(
        "orders", records=order_rows,
        columns=["id", "reference", "status", "total_amount_minor", "total_currency", "customer", "ordered_at",
                 "item_count", "search_text"],
    )  # fmt: skip
    await connection.execute("ANALYZE")
    return person_ids


async def main(people: int, products: int, orders: int, runs: int) -> None:
    async with bench_tenant("bench-crm") as database, runtime.pools().connection(database) as connection:
        started = time.perf_counter()
        await seed(connection, people, products, orders)
        seconds = time.perf_counter() - started
        print(f"seeded {people} people, {products} products, {orders} orders in {seconds:.1f} s")
        await report(connection, runs)


async def report(connection: asyncpg.Connection, runs: int) -> None:
    catalogue = await load_catalogue(connection)
    people, orders = catalogue.objects["people"], catalogue.objects["orders"]
    rng = random.Random(11)
    cities = [c for c in CITIES if c]

    async def engine_page(run: int) -> object:
        city = cities[run % len(cities)]
        return await list_records_by(
            connection, people, filter=query.Condition("city", query.Op.EQ, city),
            sorts=(query.Sort("last_name"),), limit=50, cursor=None, with_total=False,
        )  # fmt: skip

    async def raw_page(run: int) -> object:
        city = cities[run % len(cities)]
        return await connection.fetch(
            "SELECT * FROM people WHERE deleted_at IS NULL AND city = $1 ORDER BY last_name NULLS LAST, id LIMIT 51",
            city,
        )

    async def orders_page(run: int) -> object:
        return await list_records_by(
            connection, orders, filter=query.Condition("total_amount_minor", query.Op.GTE, rng.randrange(1000, 400000)),
            sorts=(query.Sort("ordered_at", query.Direction.DESC),), limit=50, cursor=None, with_total=False,
        )  # fmt: skip

    terms = ["احمد", "فاطمه", "الغامدى", "sara", "haddad", "customer123", "0501", "عود", "SKU-77", "100042"]

    async def search(run: int) -> object:
        return await search_everything(connection, catalogue, terms[run % len(terms)])

    rows = []
    for label, work in (
        ("customers page: city filter, sorted by last name (query layer)", engine_page),
        ("the same page written by hand (raw SQL)", raw_page),
        ("orders page: total >= x, newest first (query layer)", orders_page),
        ("global search across objects", search),
    ):
        await timed(5, work)  # warm caches and plans
        samples = await timed(runs, work)
        rows.append((label, statistics.median(samples), percentile(samples, 0.95)))
    print(f"{runs} runs each, sequential, one connection")
    print("| measure | p50 | p95 |")
    print("| --- | --- | --- |")
    for label, p50, p95 in rows:
        print(f"| {label} | {p50:.1f} ms | {p95:.1f} ms |")
    print(f"| ratio query layer / raw SQL (p50) | {rows[0][1] / rows[1][1]:.2f}x | |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=300)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.people, arguments.products, arguments.orders, arguments.runs))
