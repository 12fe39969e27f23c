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
import time
import uuid

import asyncpg

from app.crm.exports import create_export, run_export
from app.crm.imports import create_import, run_import
from app.crm.metadata import load_catalogue
from app.tenancy import runtime
from bench.tenant import bench_tenant

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
    async with bench_tenant("bench-imports") as database:
        pools = runtime.pools()
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
