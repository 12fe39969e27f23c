"""CSV import and export throughput, beside a raw COPY of the same rows into the same table in the same run.

    python -m bench.imports [--rows 100000]

Uses the PostgreSQL at WOSOOL_BENCH_DATABASE_URL (default: the local service); creates its own registry and one
tenant, and drops them at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import os
import time
import uuid

import asyncpg
from redis.asyncio import Redis

from app.accounts.services import Registration, register_organization
from app.crm.exports import create_export, run_export
from app.crm.imports import create_import, run_import
from app.crm.metadata import load_catalogue
from app.lib.dsn import with_database
from app.registry import database as registry
from app.settings import Settings
from app.tenancy import databases, provisioning, runtime
from app.tenancy.migrate import migrate_everything
from app.tenancy.services import tenant_database
from tasks.queue import create_queue

SERVER_URL = os.environ.get("WOSOOL_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("WOSOOL_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
HEADER = ["first_name", "last_name", "email", "phone", "city"]


def make_csv(rows: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    cities = ["الرياض", "جدة", "Dammam"]
    for n in range(rows):
        writer.writerow([f"عميل {n}", "Customer", f"c{n}@example.com", f"050{n:07d}", cities[n % 3]])
    return out.getvalue().encode()


async def raw_copy(connection: asyncpg.Connection, rows: int) -> float:
    """Seconds to COPY the same rows (already normalised, no validation) into the same table."""
    records = [
        (uuid.uuid4(), f"عميل {n}", "Customer", f"c{n}@example.com", f"+96650{n:07d}"[:13], "الرياض")
        for n in range(rows)
    ]
    started = time.perf_counter()
    async with connection.transaction():
        await connection.copy_records_to_table(
            "people",
            records=records,
            columns=["id", "first_name", "last_name", "email_primary", "phone_primary", "city"],
        )
    seconds = time.perf_counter() - started
    await connection.execute("DELETE FROM people WHERE last_name = 'Customer'")
    return seconds


async def main(rows: int) -> None:
    registry_name = f"bench_imports_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(SERVER_URL)
    await admin.execute(f'CREATE DATABASE "{registry_name}"')
    settings = Settings(database_url=with_database(SERVER_URL, registry_name), redis_url=REDIS_URL)
    registry.bind(settings.database_url)
    redis, queue = Redis.from_url(REDIS_URL), create_queue(settings)
    tenant_name = None
    try:
        await migrate_everything(settings)
        registered = await register_organization(
            Registration(name="Bench", slug="bench-imports", email="b@example.com", password="correct horse battery"),
            settings=settings, queue=queue, redis=redis,
        )  # fmt: skip
        assert registered.tenant is not None
        tenant = await provisioning.provision(registered.tenant.id, settings, redis)
        tenant_name = tenant.database_name
        pools = await runtime.open_pools(settings)
        database = await tenant_database(tenant, settings)
        async with pools.connection(database) as connection, pools.connection(database) as progress:
            people = (await load_catalogue(connection)).objects["people"]
            content = make_csv(rows)
            copy_seconds = await raw_copy(connection, rows)
            job = await create_import(connection, people, content=content, file_name="bench.csv")
            started = time.perf_counter()
            status = await run_import(connection, progress, people, uuid.UUID(job["id"]))
            import_seconds = time.perf_counter() - started
            assert status == "succeeded", status
            export = await create_export(connection, people)
            started = time.perf_counter()
            exported = await run_export(connection, progress, people, uuid.UUID(export["id"]))
            export_seconds = time.perf_counter() - started
    finally:
        await runtime.close_pools()
        await registry.close_pool(everyone=True)
        await queue.disconnect()
        await redis.aclose()
        if tenant_name:
            await databases.drop_database(admin, tenant_name)
            await databases.drop_role(admin, tenant_name)
        await databases.drop_database(admin, f"{registry_name}_template")
        await databases.drop_database(admin, registry_name)
        await admin.close()
    print(f"{rows} customers (5 columns: names, e-mail, phone, city), one run")
    print("| measure | seconds | rows/s |")
    print("| --- | --- | --- |")
    label = "CSV import (parse, convert, validate, normalise, write)"
    print(f"| {label} | {import_seconds:.1f} | {rows / import_seconds:,.0f} |")
    print(f"| raw COPY of the same rows, same table, same run | {copy_seconds:.1f} | {rows / copy_seconds:,.0f} |")
    print(f"| CSV export of every row | {export_seconds:.1f} | {(exported or 0) / export_seconds:,.0f} |")
    print(f"| ratio import / raw COPY (time) | {import_seconds / copy_seconds:.1f}x | |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    asyncio.run(main(parser.parse_args().rows))
