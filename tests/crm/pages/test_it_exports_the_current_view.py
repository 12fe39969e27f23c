"""Exporting what a list page shows: its filter, sort (or saved view) and columns, as a CSV job with a progress page
and a download."""

from __future__ import annotations

import codecs
import csv
import io
import re
from datetime import datetime
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from redis.asyncio import Redis

from app.accounts import repository as accounts
from app.crm import views
from app.crm.records import Actor, create_record
from app.crm.services import catalogue_of, crm_connection
from app.settings import Settings
from app.tenancy.repository import TenantRecord
from tasks.imports import run_export
from tests.conftest import World
from tests.people import sign_in

PEOPLE = [
    ("Sara", "sara@example.com", "Riyadh"),
    ("Omar", "omar@example.com", "Jeddah"),
    ("Huda", "huda@example.com", "Riyadh"),
    ("Ali", "ali@example.com", "Dammam"),
    ("Lina", "lina@example.com", "Riyadh"),
]


@pytest.fixture
def ctx(settings: Settings, redis: Redis) -> dict[str, Any]:
    """What a worker hands a job: the tests run the export job function directly, as the worker would."""
    return {
        "job": SimpleNamespace(attempts=1, retries=3),
        "worker": None,
        "wosool": {"settings": settings, "redis": redis},
    }


async def _seed(settings: Settings, tenant: TenantRecord) -> None:
    async with crm_connection(tenant, settings) as connection:
        people = (await catalogue_of(connection, tenant)).objects["people"]
        for first, email, city in PEOPLE:
            data = {"first_name": first, "last_name": "Test", "email": email, "city": city, "job_title": "Buyer"}
            await create_record(connection, people, data, Actor(source="system", id=None, name="test"))


def _csrf(client: httpx.AsyncClient) -> dict[str, str]:
    return {"x-csrftoken": client.cookies.get("csrftoken") or ""}


async def _export(client: httpx.AsyncClient, form: dict[str, str], object_name: str = "people") -> httpx.Response:
    return await client.post(f"/t/acme/o/{object_name}/export", data=form, headers=_csrf(client))


async def _export_count(settings: Settings, tenant: TenantRecord) -> int:
    async with crm_connection(tenant, settings) as connection:
        return int(await connection.fetchval("SELECT count(*) FROM export_jobs"))


def _rows(download: httpx.Response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(download.content.decode("utf-8-sig"))))


async def test_an_export_of_a_filtered_view_holds_exactly_its_rows_and_columns(
    client: httpx.AsyncClient, world: World, settings: Settings, ctx: dict[str, Any]
) -> None:
    await _seed(settings, world.acme)
    await sign_in(client, "alice@example.com")

    started = await _export(
        client, {"filter": 'city[eq]:"Riyadh"', "sort": "first_name:desc", "view": "", "columns": "first_name,email"}
    )

    assert started.status_code == 303, started.text
    progress_url = started.headers["location"]
    assert re.fullmatch(r"/t/acme/exports/[0-9a-f-]{36}", progress_url)
    waiting = await client.get(progress_url)
    assert waiting.status_code == 200
    assert 'hx-trigger="every 500ms"' in waiting.text
    assert "/download" not in waiting.text
    assert (await client.get(progress_url + "/download")).status_code == 409  # not finished yet

    await run_export(ctx, tenant_id=str(world.acme.id), export_id=progress_url.rsplit("/", 1)[1])

    status = await client.get(progress_url + "/status", headers={"HX-Request": "true"})
    assert "hx-trigger" not in status.text  # finished: the polling stops
    assert f'href="{progress_url}/download"' in status.text
    download = await client.get(progress_url + "/download")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    today = datetime.now(ZoneInfo("Asia/Riyadh")).date().isoformat()
    assert download.headers["content-disposition"] == f'attachment; filename="people-{today}.csv"'
    assert download.content.startswith(codecs.BOM_UTF8)
    rows = _rows(download)
    assert [(row["first_name"], row["email"]) for row in rows] == [
        ("Sara", "sara@example.com"),
        ("Lina", "lina@example.com"),
        ("Huda", "huda@example.com"),
    ]
    assert list(rows[0]) == ["id", "first_name", "email"]  # the view's columns, with the id to re-import by


async def test_without_columns_every_column_is_exported(
    client: httpx.AsyncClient, world: World, settings: Settings, ctx: dict[str, Any]
) -> None:
    await _seed(settings, world.acme)
    await sign_in(client, "alice@example.com")

    started = await _export(client, {"filter": "", "sort": "", "columns": ""})
    await run_export(ctx, tenant_id=str(world.acme.id), export_id=started.headers["location"].rsplit("/", 1)[1])

    rows = _rows(await client.get(started.headers["location"] + "/download"))
    assert len(rows) == len(PEOPLE)
    assert {"id", "first_name", "last_name", "email", "city", "job_title", "created_at"} <= set(rows[0])


async def test_an_export_follows_the_saved_view_it_was_started_from(
    client: httpx.AsyncClient, world: World, settings: Settings, ctx: dict[str, Any]
) -> None:
    await _seed(settings, world.acme)
    alice = await accounts.user_by_email("alice@example.com")
    assert alice is not None
    async with crm_connection(world.acme, settings) as connection:
        catalogue = await catalogue_of(connection, world.acme)
        view = await views.create_view(
            connection,
            catalogue,
            {
                "object": "people",
                "label_en": "Riyadh",
                "label_ar": "الرياض",
                "filter": {"field": "city", "op": "eq", "value": "Riyadh"},
                "sorts": [{"field": "first_name", "direction": "asc"}],
                "columns": ["email", "city"],
            },
            alice.id,
        )
    await sign_in(client, "alice@example.com")

    as_saved = await _export(client, {"view": view["id"]})  # what the form leaves out comes from the view
    cleared = await _export(client, {"view": view["id"], "filter": "", "columns": "first_name"})  # changed on the page
    for started in (as_saved, cleared):
        await run_export(ctx, tenant_id=str(world.acme.id), export_id=started.headers["location"].rsplit("/", 1)[1])

    rows = _rows(await client.get(as_saved.headers["location"] + "/download"))
    assert [(row["email"], row["city"]) for row in rows] == [
        ("huda@example.com", "Riyadh"),
        ("lina@example.com", "Riyadh"),
        ("sara@example.com", "Riyadh"),
    ]
    assert list(rows[0]) == ["id", "email", "city"]
    everyone = _rows(await client.get(cleared.headers["location"] + "/download"))
    assert [row["first_name"] for row in everyone] == ["Ali", "Huda", "Lina", "Omar", "Sara"]  # the view's sort
    assert list(everyone[0]) == ["id", "first_name"]


async def test_me_in_a_filter_means_whoever_exports(
    client: httpx.AsyncClient, world: World, settings: Settings, ctx: dict[str, Any]
) -> None:
    alice, bob = await accounts.user_by_email("alice@example.com"), await accounts.user_by_email("bob@example.com")
    assert alice is not None
    assert bob is not None
    async with crm_connection(world.acme, settings) as connection:
        tasks = (await catalogue_of(connection, world.acme)).objects["tasks"]
        for title, assignee in (("Call Sara", alice.id), ("Pack orders", bob.id), ("Write to Omar", alice.id)):
            data = {"title": title, "assignee": str(assignee)}
            await create_record(connection, tasks, data, Actor(source="system", id=None, name="test"))
    await sign_in(client, "alice@example.com")

    started = await _export(
        client, {"filter": 'and(status[neq]:"done",assignee[eq]:"@me")', "sort": "title", "columns": "title"}, "tasks"
    )
    await run_export(ctx, tenant_id=str(world.acme.id), export_id=started.headers["location"].rsplit("/", 1)[1])

    rows = _rows(await client.get(started.headers["location"] + "/download"))
    assert [row["title"] for row in rows] == ["Call Sara", "Write to Omar"]


async def test_a_bad_filter_sort_view_or_column_is_a_400_with_the_reason(
    client: httpx.AsyncClient, world: World, settings: Settings
) -> None:
    await sign_in(client, "alice@example.com")

    cases = [
        (await _export(client, {"filter": "shoe_size[eq]:42"}), "shoe_size"),
        (await _export(client, {"filter": 'city[eq]:"Riyadh'}), "cannot be exported"),
        (await _export(client, {"sort": "city:sideways"}), "sideways"),
        (await _export(client, {"view": "not-a-view"}), "not-a-view"),
        (await _export(client, {"columns": "first_name,shoe_size"}), "shoe_size"),
    ]

    for response, reason in cases:
        assert response.status_code == 400, response.text[:300]
        assert reason in response.text
    assert (await _export(client, {}, object_name="spaceships")).status_code == 404
    hx = await client.post(
        "/t/acme/o/people/export", data={"filter": "shoe_size[eq]:42"}, headers={**_csrf(client), "HX-Request": "true"}
    )
    assert hx.status_code == 400
    assert "shoe_size" in hx.json()["detail"]  # the toast says why
    assert await _export_count(settings, world.acme) == 0


async def test_another_tenant_never_sees_or_downloads_an_export(
    client: httpx.AsyncClient, world: World, settings: Settings, ctx: dict[str, Any]
) -> None:
    await _seed(settings, world.acme)
    await sign_in(client, "alice@example.com")
    started = await _export(client, {"filter": 'city[eq]:"Riyadh"'})
    progress_url = started.headers["location"]
    export_id = progress_url.rsplit("/", 1)[1]
    await run_export(ctx, tenant_id=str(world.acme.id), export_id=export_id)

    client.cookies.clear()
    await sign_in(client, "charlie@example.com")
    responses = [
        await client.get(progress_url),
        await client.get(progress_url + "/download"),
        await client.get(f"/t/noor/exports/{export_id}"),
        await client.get(f"/t/noor/exports/{export_id}/download"),
        await client.post("/t/acme/o/people/export", data={}, headers=_csrf(client)),
    ]

    assert [response.status_code for response in responses] == [404, 404, 404, 404, 404]
    assert "sara@example.com" not in "".join(response.text for response in responses)
