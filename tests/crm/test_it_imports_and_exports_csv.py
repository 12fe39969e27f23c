"""CSV import and export as jobs, over the REST API: reports, modes, dedupe, progress, size and speed."""

from __future__ import annotations

import asyncio
import codecs
import csv
import io
import os
import time
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from litestar import Litestar
from redis.asyncio import Redis
from saq import Queue

from app.accounts import api_keys
from app.crm.import_routes import EXPORT_ROUTES, IMPORT_ROUTES
from app.crm.services import crm_connection
from app.factory import create_app
from app.settings import Settings
from app.tenancy import runtime
from app.tenancy.repository import TenantRecord
from tasks.imports import run_export, run_import
from tests.conftest import World, app_client

BIG_IMPORT_ROWS = int(os.environ.get("WOSOOL_BIG_IMPORT_ROWS", "100000"))


@pytest.fixture
async def http(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app: Litestar = create_app(settings)
    if not any(route.path.startswith("/api/v1/imports") for route in app.routes):
        app.register(IMPORT_ROUTES)
        app.register(EXPORT_ROUTES)
    await runtime.open_pools(settings)
    async with app_client(app) as client:
        yield client


@pytest.fixture
def ctx(settings: Settings, redis: Redis) -> dict[str, Any]:
    job = SimpleNamespace(attempts=1, retries=3)
    return {"job": job, "worker": None, "wosool": {"settings": settings, "redis": redis}}


async def _keys(world: World) -> tuple[dict[str, str], dict[str, str]]:
    _, acme = await api_keys.create_api_key(world.acme.id, "acme", name="acme erp", actor="test")
    _, noor = await api_keys.create_api_key(world.noor.id, "noor", name="noor erp", actor="test")
    return {"Authorization": f"Bearer {acme}"}, {"Authorization": f"Bearer {noor}"}


def _csv(header: list[str], rows: list[list[str]], *, bom: bool = False) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return (codecs.BOM_UTF8 if bom else b"") + buffer.getvalue().encode()


async def _upload(http: httpx.AsyncClient, key: dict[str, str], content: bytes, **form: str) -> httpx.Response:
    fields = {"object": "people"} | form
    return await http.post(
        "/api/v1/imports", files={"file": ("people.csv", content, "text/csv")}, data=fields, headers=key
    )


async def _import(
    http: httpx.AsyncClient, ctx: dict[str, Any], world: World, key: dict[str, str], content: bytes, **form: str
) -> dict[str, Any]:
    started = await _upload(http, key, content, **form)
    assert started.status_code == 202, started.text
    job_id = started.json()["id"]
    await run_import(ctx, tenant_id=str(world.acme.id), import_id=job_id)
    status = await http.get(f"/api/v1/imports/{job_id}", headers=key)
    assert status.status_code == 200, status.text
    result: dict[str, Any] = status.json()
    return result


async def _people(settings: Settings, tenant: TenantRecord) -> list[dict[str, Any]]:
    async with crm_connection(tenant, settings) as connection:
        rows = await connection.fetch(
            "SELECT first_name, last_name, email_primary, phone_primary, city, search_text, created_by_source"
            " FROM people WHERE deleted_at IS NULL ORDER BY first_name"
        )
    return [dict(row) for row in rows]


async def _job_count(settings: Settings, tenant: TenantRecord) -> int:
    async with crm_connection(tenant, settings) as connection:
        return int(
            await connection.fetchval("SELECT (SELECT count(*) FROM import_jobs) + (SELECT count(*) FROM export_jobs)")
        )


HEADER = ["First name", "Last name", "E-mail", "Phone", "City", "VIP"]
MAPPING = '{"First name": "first_name", "Last name": "last_name", "E-mail": "email", "Phone": "phone", "City": "city"}'
GOOD_AND_BAD = [
    ["Sara", "Al-Harbi", "SARA@example.com", "0501234567", "الرياض", "yes"],
    ["Omar", "Saleh", "not-an-email", "+966 50 765 4321", "جدة", "no"],
    ["Huda", "", "huda@example.com", "12", "Dammam", "1"],
    ["Ali", "", "ali@example.com", "", "", ""],
]


async def test_it_reports_every_bad_row_and_changes_nothing_by_default(
    http: httpx.AsyncClient, ctx: dict[str, Any], world: World, settings: Settings
) -> None:
    acme, _ = await _keys(world)

    job = await _import(http, ctx, world, acme, _csv(HEADER, GOOD_AND_BAD), mapping=MAPPING)

    assert job["status"] == "failed"
    assert job["counts"] == {"created": 0, "updated": 0, "failed": 2}
    assert [entry["row"] for entry in job["report"]] == [3, 4]
    assert set(job["report"][0]["errors"]) == {"email"}
    assert set(job["report"][1]["errors"]) == {"phone"}
    assert "nothing was imported" in job["error"]
    assert await _people(settings, world.acme) == []


async def test_it_writes_the_good_rows_when_told_to_skip_bad_ones(
    http: httpx.AsyncClient, ctx: dict[str, Any], world: World, settings: Settings
) -> None:
    acme, _ = await _keys(world)

    job = await _import(http, ctx, world, acme, _csv(HEADER, GOOD_AND_BAD), mapping=MAPPING, mode="skip_bad_rows")

    people = await _people(settings, world.acme)
    assert job["status"] == "succeeded"
    assert job["counts"] == {"created": 2, "updated": 0, "failed": 2}
    assert job["progress"] == {"processed": 4, "total": 4}
    assert [(p["first_name"], p["email_primary"], p["phone_primary"]) for p in people] == [
        ("Ali", "ali@example.com", None),
        ("Sara", "sara@example.com", "+966501234567"),
    ]
    assert people[1]["created_by_source"] == "import"
    assert "الرياض" in people[1]["search_text"]
    assert "0501234567" in people[1]["search_text"]


async def test_it_updates_the_record_with_the_same_email_instead_of_duplicating(
    http: httpx.AsyncClient, ctx: dict[str, Any], world: World, settings: Settings
) -> None:
    acme, _ = await _keys(world)
    created = await http.post("/api/v1/people", json={"first_name": "Sara", "email": "sara@example.com"}, headers=acme)
    assert created.status_code == 201

    rows = [["Sara", "Harbi", "SARA@Example.com", "", "الرياض", ""], ["Nada", "", "nada@example.com", "", "", ""]]
    job = await _import(http, ctx, world, acme, _csv(HEADER, rows), mapping=MAPPING, dedupe_field="email")

    people = await _people(settings, world.acme)
    assert job["counts"] == {"created": 1, "updated": 1, "failed": 0}
    assert [(p["first_name"], p["last_name"], p["city"]) for p in people] == [
        ("Nada", None, None),
        ("Sara", "Harbi", "الرياض"),
    ]
    assert (await http.get(f"/api/v1/people/{created.json()['id']}", headers=acme)).json()["city"] == "الرياض"


async def test_it_refuses_the_same_dedupe_value_twice_in_one_file(
    http: httpx.AsyncClient, ctx: dict[str, Any], world: World, settings: Settings
) -> None:
    acme, _ = await _keys(world)
    rows = [["A", "", "a@example.com", "", "", ""], ["B", "", "A@example.com", "", "", ""]]

    job = await _import(http, ctx, world, acme, _csv(HEADER, rows), mapping=MAPPING, dedupe_field="email")

    assert job["report"] == [{"row": 3, "errors": {"email": "the same value as row 2 of this file"}}]
    assert await _people(settings, world.acme) == []


async def _export(
    http: httpx.AsyncClient, ctx: dict[str, Any], tenant: TenantRecord, key: dict[str, str], body: dict[str, Any]
) -> httpx.Response:
    started = await http.post("/api/v1/exports", json=body, headers=key)
    assert started.status_code == 202, started.text
    job_id = started.json()["id"]
    await run_export(ctx, tenant_id=str(tenant.id), export_id=job_id)
    status = await http.get(f"/api/v1/exports/{job_id}", headers=key)
    assert status.json()["status"] == "succeeded", status.text
    return await http.get(f"/api/v1/exports/{job_id}/download", headers=key)


async def test_arabic_text_and_the_bom_survive_an_export_and_an_import(
    http: httpx.AsyncClient, ctx: dict[str, Any], world: World, settings: Settings
) -> None:
    acme, noor = await _keys(world)
    for name, city in (("أحمد", "الرياض"), ("فاطمة", "جدة")):
        body = {"first_name": name, "city": city, "phone": "0501234567", "email": f"{city}@example.com"}
        assert (await http.post("/api/v1/people", json=body, headers=acme)).status_code == 201

    download = await _export(http, ctx, world.acme, acme, {"object": "people", "sort": "first_name"})
    assert download.headers["content-type"].startswith("text/csv")
    assert "attachment" in download.headers["content-disposition"]
    assert download.content.startswith(codecs.BOM_UTF8)
    lines = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert lines[0][:3] == ["id", "first_name", "last_name"]
    assert [line[1] for line in lines[1:]] == ["أحمد", "فاطمة"]

    started = await http.post(
        "/api/v1/imports",
        files={"file": ("people.csv", download.content, "text/csv")},
        data={"object": "people"},
        headers=noor,
    )
    assert started.status_code == 202, started.text
    await run_import(ctx, tenant_id=str(world.noor.id), import_id=started.json()["id"])

    copied = await _people(settings, world.noor)
    assert [(p["first_name"], p["city"], p["phone_primary"]) for p in copied] == [
        ("أحمد", "الرياض", "+966501234567"),
        ("فاطمة", "جدة", "+966501234567"),
    ]


def _many(count: int, offset: int = 0) -> bytes:
    cities = ["الرياض", "Jeddah"]
    rows = [
        [f"Customer {n:06d}", "عميل", f"c{n}@example.com", f"050{n:07d}", cities[n % 2], ""]
        for n in range(offset, offset + count)
    ]
    return _csv(HEADER, rows)


async def test_an_export_streams_every_matching_row_across_pages(
    http: httpx.AsyncClient, ctx: dict[str, Any], world: World
) -> None:
    acme, _ = await _keys(world)
    job = await _import(http, ctx, world, acme, _many(5000), mapping=MAPPING)
    assert job["counts"]["created"] == 5000, job["report"][:3]

    download = await _export(
        http, ctx, world.acme, acme, {"object": "people", "filter": 'city[eq]:"الرياض"', "sort": "first_name:desc"}
    )

    lines = list(csv.DictReader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert len(lines) == 2500
    assert {line["city"] for line in lines} == {"الرياض"}
    assert [line["first_name"] for line in lines[:2]] == ["Customer 004998", "Customer 004996"]
    assert len({line["id"] for line in lines}) == 2500


async def test_progress_is_readable_while_an_import_runs(
    http: httpx.AsyncClient, ctx: dict[str, Any], world: World
) -> None:
    acme, _ = await _keys(world)
    started = await _upload(http, acme, _many(20_000), mapping=MAPPING)
    job_id = started.json()["id"]

    job = asyncio.create_task(run_import(ctx, tenant_id=str(world.acme.id), import_id=job_id))
    seen: list[tuple[str, int]] = []
    while not job.done():
        status = (await http.get(f"/api/v1/imports/{job_id}", headers=acme)).json()
        seen.append((status["status"], status["progress"]["processed"]))
        await asyncio.sleep(0.02)
    await job

    final = (await http.get(f"/api/v1/imports/{job_id}", headers=acme)).json()
    assert final["status"] == "succeeded"
    assert final["progress"] == {"processed": 20_000, "total": 20_000}
    assert any(state == "running" and 0 < processed < 20_000 for state, processed in seen), seen[-5:]


async def test_a_rerun_of_a_finished_import_does_nothing(
    http: httpx.AsyncClient, ctx: dict[str, Any], world: World, settings: Settings
) -> None:
    acme, _ = await _keys(world)
    job = await _import(http, ctx, world, acme, _many(10), mapping=MAPPING)

    await run_import(ctx, tenant_id=str(world.acme.id), import_id=job["id"])

    assert len(await _people(settings, world.acme)) == 10


@pytest.mark.slow
async def test_a_100k_row_import_completes(http: httpx.AsyncClient, ctx: dict[str, Any], world: World) -> None:
    acme, _ = await _keys(world)
    started = await _upload(http, acme, _many(BIG_IMPORT_ROWS), mapping=MAPPING)
    assert started.status_code == 202, started.text

    began = time.perf_counter()
    await run_import(ctx, tenant_id=str(world.acme.id), import_id=started.json()["id"])
    seconds = time.perf_counter() - began

    final = (await http.get(f"/api/v1/imports/{started.json()['id']}", headers=acme)).json()
    print(f"\nimported {BIG_IMPORT_ROWS} rows in {seconds:.1f} s: {BIG_IMPORT_ROWS / seconds:,.0f} rows/s")
    assert final["status"] == "succeeded", final["error"]
    assert final["counts"]["created"] == BIG_IMPORT_ROWS


async def test_a_key_of_noor_never_reads_an_import_or_export_of_acme(http: httpx.AsyncClient, world: World) -> None:
    acme, noor = await _keys(world)
    imported = await _upload(http, acme, _many(3), mapping=MAPPING)
    exported = await http.post("/api/v1/exports", json={"object": "people"}, headers=acme)
    import_id, export_id = imported.json()["id"], exported.json()["id"]

    responses = [
        await http.get(f"/api/v1/imports/{import_id}", headers=noor),
        await http.get(f"/api/v1/exports/{export_id}", headers=noor),
        await http.get(f"/api/v1/exports/{export_id}/download", headers=noor),
    ]

    assert [response.status_code for response in responses] == [404, 404, 404]
    assert (await http.get(f"/api/v1/imports/{import_id}", headers=acme)).status_code == 200
    assert (await http.get(f"/api/v1/exports/{export_id}/download", headers=acme)).status_code == 409


async def test_bad_uploads_are_refused_with_a_reason_and_nothing_is_stored(
    http: httpx.AsyncClient, world: World, settings: Settings
) -> None:
    acme, _ = await _keys(world)
    good = _csv(HEADER, GOOD_AND_BAD)

    cases = [
        (await _upload(http, acme, good, mapping='{"First name": "shoe_size"}'), 400, "shoe_size"),
        (await _upload(http, acme, good, mapping='{"Nope": "first_name"}'), 400, "Nope"),
        (await _upload(http, acme, good), 400, "E-mail"),  # no mapping: headers must be field names
        (await _upload(http, acme, good, mapping="[1]"), 400, "mapping"),
        (await _upload(http, acme, good, mapping=MAPPING, mode="some"), 400, "mode"),
        (await _upload(http, acme, good, mapping=MAPPING, dedupe_field="city2"), 400, "dedupe_field"),
        (await _upload(http, acme, good, object="spaceships", mapping=MAPPING), 404, "spaceships"),
        (await _upload(http, acme, b"first_name\n\xc3\x28 not text\n", mapping=MAPPING), 400, "UTF-8"),
        (await _upload(http, acme, b"first_name\n"), 400, "no rows"),
        (await _upload(http, acme, b"x" * (50 * 1024 * 1024 + 10)), 413, ""),
        (await http.post("/api/v1/exports", json={"object": "people", "filter": "shoe[eq]:1"}, headers=acme), 400, ""),
        (await http.post("/api/v1/exports", json={"object": "people", "sort": "city:up"}, headers=acme), 400, ""),
    ]

    for response, status, reason in cases:
        assert response.status_code == status, response.text
        assert reason in response.json()["detail"], response.text
    assert await _job_count(settings, world.acme) == 0


async def test_it_reads_utf16_from_excel(
    http: httpx.AsyncClient, ctx: dict[str, Any], world: World, settings: Settings
) -> None:
    acme, _ = await _keys(world)
    content = "first_name,city,email\r\nليلى,مكة,LAYLA@example.com\r\n".encode("utf-16")

    job = await _import(http, ctx, world, acme, content)

    assert job["status"] == "succeeded", job
    assert [(p["first_name"], p["email_primary"]) for p in await _people(settings, world.acme)] == [
        ("ليلى", "layla@example.com")
    ]


async def test_a_job_redis_lost_is_enqueued_again_when_its_status_is_read(
    http: httpx.AsyncClient, ctx: dict[str, Any], world: World, redis: Redis, queue: Queue
) -> None:
    acme, _ = await _keys(world)
    started = await _upload(http, acme, _many(3), mapping=MAPPING)
    import_id = started.json()["id"]
    assert await queue.job(f"import:{import_id}") is not None

    await redis.flushdb()  # Redis loses everything; the upload is safe in PostgreSQL
    assert await queue.job(f"import:{import_id}") is None
    status = await http.get(f"/api/v1/imports/{import_id}", headers=acme)

    assert status.json()["status"] == "pending"
    assert await queue.job(f"import:{import_id}") is not None
    await run_import(ctx, tenant_id=str(world.acme.id), import_id=import_id)
    assert (await http.get(f"/api/v1/imports/{import_id}", headers=acme)).json()["status"] == "succeeded"
