"""The CSV import wizard: upload, map columns, preview, run, and the progress page with the per-row report."""

from __future__ import annotations

import codecs
import csv
import html
import io
import re
import subprocess
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect
from redis.asyncio import Redis

from app.crm.services import crm_connection
from app.settings import Settings
from app.tenancy import runtime
from app.tenancy.repository import TenantRecord
from tasks.imports import run_import
from tests.browser import sign_in_browser, use_language
from tests.conftest import World
from tests.people import sign_in

HEADER = ["First name", "Last name", "E-mail", "Phone", "City", "VIP"]
ROWS = [
    ["Sara", "Al-Harbi", "SARA@example.com", "0501234567", "الرياض", "yes"],
    ["Omar", "Saleh", "not-an-email", "0507654321", "جدة", "no"],
    ["<b>Nour</b>", "", "nour@example.com", "", "Dammam", ""],
]


@pytest.fixture
def ctx(settings: Settings, redis: Redis) -> dict[str, Any]:
    """What a worker hands a job: the tests run the import job function directly, as the worker would."""
    return {
        "job": SimpleNamespace(attempts=1, retries=3),
        "worker": None,
        "wosool": {"settings": settings, "redis": redis},
    }


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode()


def _csrf(client: httpx.AsyncClient) -> dict[str, str]:
    return {"x-csrftoken": client.cookies.get("csrftoken") or ""}


async def _upload(
    client: httpx.AsyncClient, content: bytes, *, object_name: str = "people", file_name: str = "customers.csv"
) -> httpx.Response:
    return await client.post(
        "/t/acme/import",
        files={"file": (file_name, content, "text/csv")},
        data={"object": object_name},
        headers=_csrf(client),
    )


def _selected(page: str, name: str) -> str:
    """The value of the selected option of the select ``name`` ("" for none/skip)."""
    select = re.search(rf'<select name="{re.escape(name)}"[^>]*>(.*?)</select>', page, re.S)
    assert select is not None, name
    chosen = re.search(r'<option value="([^"]*)" selected>', select.group(1))
    return chosen.group(1) if chosen else ""


async def _people(settings: Settings, tenant: TenantRecord) -> list[dict[str, Any]]:
    async with crm_connection(tenant, settings) as connection:
        rows = await connection.fetch(
            "SELECT first_name, last_name, email_primary, phone_primary, city, created_by_source FROM people"
            " WHERE deleted_at IS NULL ORDER BY first_name"
        )
    return [dict(row) for row in rows]


async def _count(settings: Settings, tenant: TenantRecord, table: str) -> int:
    async with crm_connection(tenant, settings) as connection:
        return int(await connection.fetchval(f"SELECT count(*) FROM {table}"))


async def _to_preview(client: httpx.AsyncClient, content: bytes, mode: str = "skip_bad_rows") -> str:
    """Steps 1 and 2 with the guessed mapping; the preview page's URL."""
    uploaded = await _upload(client, content)
    assert uploaded.status_code == 303, uploaded.text
    map_url = uploaded.headers["location"]
    mapped = await client.post(
        map_url,
        data={
            **{
                f"column-{index}": target
                for index, target in enumerate(["first_name", "last_name", "email", "phone", "city", ""])
            },
            "mode": mode,
            "dedupe_field": "",
        },
        headers=_csrf(client),
    )
    assert mapped.status_code == 303, mapped.text
    return str(mapped.headers["location"])


async def test_a_member_imports_a_file_with_one_bad_row_and_reads_the_report(
    client: httpx.AsyncClient, world: World, settings: Settings, ctx: dict[str, Any]
) -> None:
    await sign_in(client, "alice@example.com")
    start = await client.get("/t/acme/import")
    assert start.status_code == 200
    assert 'enctype="multipart/form-data"' in start.text

    uploaded = await _upload(client, _csv(HEADER, ROWS))
    assert uploaded.status_code == 303, uploaded.text
    map_url = uploaded.headers["location"]
    assert re.fullmatch(r"/t/acme/import/[0-9a-f-]{36}", map_url)

    mapping_page = await client.get(map_url)
    assert mapping_page.status_code == 200
    guessed = [_selected(mapping_page.text, f"column-{index}") for index in range(len(HEADER))]
    assert guessed == ["first_name", "last_name", "email", "phone", "city", ""]  # VIP has no field: skipped
    assert "customers.csv" in mapping_page.text

    mapped = await client.post(
        map_url,
        data={
            **{f"column-{i}": target for i, target in enumerate(guessed)},
            "mode": "skip_bad_rows",
            "dedupe_field": "",
        },
        headers=_csrf(client),
    )
    assert mapped.status_code == 303, mapped.text
    preview = await client.get(mapped.headers["location"])
    assert preview.status_code == 200
    lines = re.findall(r'<tr class="import-line-(\w+)">\s*<th scope="row">(\d+)</th>', preview.text)
    assert lines == [("create", "2"), ("fail", "3"), ("create", "4")]
    assert "not-an-email" in preview.text
    assert "&#39;not-an-email&#39; is not a valid e-mail address" in preview.text
    assert ">sara@example.com<" in preview.text  # as stored, not as typed
    assert ">+966501234567<" in preview.text
    assert "&lt;b&gt;Nour&lt;/b&gt;" in preview.text
    assert "<b>Nour</b>" not in preview.text
    assert await _people(settings, world.acme) == []  # a preview writes nothing

    run = await client.post(mapped.headers["location"].removesuffix("/preview") + "/run", headers=_csrf(client))
    assert run.status_code == 303, run.text
    progress_url = run.headers["location"]
    import_id = progress_url.rsplit("/", 1)[1]
    running = await client.get(progress_url)
    assert running.status_code == 200
    assert 'hx-trigger="every 500ms"' in running.text  # polls while the job waits

    await run_import(ctx, tenant_id=str(world.acme.id), import_id=import_id)

    status = await client.get(f"{progress_url}/status", headers={"HX-Request": "true"})
    assert status.status_code == 200
    assert "hx-trigger" not in status.text  # finished: the polling stops
    assert "wosool:toast" in status.headers["HX-Trigger"]
    assert re.search(r'data-count="created">2<', status.text)
    assert re.search(r'data-count="failed">1<', status.text)
    report = re.findall(r"<tr><td>(\d+)</td><td>([^<]+)</td><td dir=\"auto\">([^<]+)</td></tr>", status.text)
    assert [(row, field) for row, field, _ in report] == [("3", "E-mail")]
    assert "not-an-email" in html.unescape(report[0][2])
    assert 'href="/t/acme/o/people"' in status.text
    assert [
        (p["first_name"], p["email_primary"], p["phone_primary"], p["created_by_source"])
        for p in await _people(settings, world.acme)
    ] == [
        ("<b>Nour</b>", "nour@example.com", None, "import"),
        ("Sara", "sara@example.com", "+966501234567", "import"),
    ]
    assert (await client.get(progress_url)).status_code == 200  # a deep link to the finished import works

    again = await client.post(mapped.headers["location"].removesuffix("/preview") + "/run", headers=_csrf(client))
    assert again.headers["location"] == progress_url  # pressing "import" twice does not import twice
    assert await _count(settings, world.acme, "import_jobs") == 1


async def test_all_or_nothing_imports_nothing_when_a_row_is_bad(
    client: httpx.AsyncClient, world: World, settings: Settings, ctx: dict[str, Any]
) -> None:
    await sign_in(client, "alice@example.com")
    preview_url = await _to_preview(client, _csv(HEADER, ROWS), mode="all_or_nothing")
    preview = await client.get(preview_url)
    assert "nothing will be imported while any row is not valid" in preview.text

    run = await client.post(preview_url.removesuffix("/preview") + "/run", headers=_csrf(client))
    await run_import(ctx, tenant_id=str(world.acme.id), import_id=run.headers["location"].rsplit("/", 1)[1])

    status = await client.get(run.headers["location"] + "/status")
    assert "The import failed." in status.text
    assert re.search(r"<tr><td>3</td><td>E-mail</td>", status.text)
    assert await _people(settings, world.acme) == []


async def test_bad_files_are_refused_with_a_clear_message_and_nothing_is_kept(
    client: httpx.AsyncClient, world: World, settings: Settings
) -> None:
    await sign_in(client, "alice@example.com")
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    cases = [
        (await _upload(client, png, file_name="logo.png"), "not a CSV file"),
        (await _upload(client, b"PK\x03\x04" + bytes(200), file_name="customers.xlsx"), "Excel workbook"),
        (await _upload(client, b"first_name\n\xc3\x28 not text\n", file_name="odd.csv"), "not CSV text"),
        (await _upload(client, b"", file_name="empty.csv"), "The file is empty"),
        (await _upload(client, b"First name,City\n"), "header row but no rows"),
        (await _upload(client, b"City,City\nA,B\n"), "same name"),
        (await _upload(client, _csv(HEADER, ROWS), object_name="spaceships"), "Choose what the file holds"),
        (await _upload(client, _csv(HEADER, ROWS), object_name="order_items"), "Choose what the file holds"),
    ]

    for response, message in cases:
        assert response.status_code == 422, response.text[:300]
        assert message in html.unescape(response.text), message
        assert 'enctype="multipart/form-data"' in response.text  # the form again, to try another file
    assert await _count(settings, world.acme, "import_drafts") == 0
    assert await _count(settings, world.acme, "import_jobs") == 0


async def test_a_mapping_the_engine_refuses_keeps_the_choices_and_says_why(
    client: httpx.AsyncClient, world: World
) -> None:
    await sign_in(client, "alice@example.com")
    uploaded = await _upload(client, _csv(HEADER, ROWS))
    map_url = uploaded.headers["location"]

    twice = await client.post(
        map_url,
        data={"column-0": "first_name", "column-1": "first_name", "mode": "skip_bad_rows"},
        headers=_csrf(client),
    )
    nothing = await client.post(map_url, data={"mode": "all_or_nothing"}, headers=_csrf(client))
    no_key = await client.post(
        map_url,
        data={"column-0": "first_name", "dedupe_field": "email", "mode": "all_or_nothing"},
        headers=_csrf(client),
    )

    assert twice.status_code == 422
    assert "More than one column goes into first_name" in twice.text
    assert _selected(twice.text, "column-1") == "first_name"  # what was chosen is kept
    assert 'value="skip_bad_rows" checked' in twice.text
    assert nothing.status_code == 422
    assert "Choose a field for at least one column" in nothing.text
    assert no_key.status_code == 422
    assert "the field used to find existing records" in no_key.text
    preview = await client.get(map_url + "/preview", follow_redirects=False)
    assert preview.status_code == 303  # no mapping saved yet: back to step 2
    assert preview.headers["location"] == map_url


async def test_the_preview_shows_which_rows_update_existing_records(
    client: httpx.AsyncClient, world: World, settings: Settings
) -> None:
    async with crm_connection(world.acme, settings) as connection:
        await connection.execute("INSERT INTO people (first_name, email_primary) VALUES ('Sara', 'sara@example.com')")
    await sign_in(client, "alice@example.com")
    uploaded = await _upload(client, _csv(HEADER, ROWS))
    mapped = await client.post(
        uploaded.headers["location"],
        data={"column-0": "first_name", "column-2": "email", "mode": "skip_bad_rows", "dedupe_field": "email"},
        headers=_csrf(client),
    )

    preview = await client.get(mapped.headers["location"])

    lines = re.findall(r'<tr class="import-line-(\w+)">', preview.text)
    assert lines == ["update", "fail", "create"]
    assert "Updates a record" in preview.text


async def test_arabic_headers_find_their_fields_and_the_page_reads_right_to_left(
    client: httpx.AsyncClient, world: World
) -> None:
    await sign_in(client, "alice@example.com")
    header = ["الاسم الأول", "البريد الإلكتروني", "جوال", "ملاحظة"]
    uploaded = await _upload(client, _csv(header, [["سارة", "sara@example.com", "0501234567", "—"]]))

    await client.get("/language/ar?next=/")  # the language switch, as a person uses it
    page = await client.get(uploaded.headers["location"])

    assert page.status_code == 200
    assert 'dir="rtl"' in page.text
    assert "ربط الأعمدة" in page.text
    assert [_selected(page.text, f"column-{i}") for i in range(4)] == ["first_name", "email", "phone", ""]


async def test_nobody_else_sees_an_import_or_a_draft(
    client: httpx.AsyncClient, world: World, settings: Settings
) -> None:
    await sign_in(client, "alice@example.com")
    preview_url = await _to_preview(client, _csv(HEADER, ROWS))
    draft_url = preview_url.removesuffix("/preview")
    run = await client.post(draft_url + "/run", headers=_csrf(client))
    progress_url = run.headers["location"]
    import_id = progress_url.rsplit("/", 1)[1]

    client.cookies.clear()
    await sign_in(client, "charlie@example.com")
    assert (await client.get(progress_url)).status_code == 404
    assert (await client.get(progress_url + "/status")).status_code == 404
    assert (await client.get(f"/t/noor/imports/{import_id}")).status_code == 404
    assert (await client.get(draft_url)).status_code == 404

    client.cookies.clear()
    await sign_in(client, "bob@example.com")  # a member of acme sees the import, not alice's unfinished upload
    assert (await client.get(progress_url)).status_code == 200
    assert (await client.get(draft_url)).status_code == 404
    assert (await client.get(draft_url + "/preview")).status_code == 404


def _browser_csv() -> bytes:
    rows = [[f"Customer {n}", "Test", f"c{n}@example.com", f"05012345{n:02d}", "Riyadh", ""] for n in range(1, 30)]
    rows[6][2] = "broken-address"
    return codecs.BOM_UTF8 + _csv(HEADER, rows)


@pytest.mark.browser
async def test_a_merchant_runs_the_wizard_and_watches_the_import_finish(
    page: Page, live_server: str, live_worker: subprocess.Popen[bytes], world: World, settings: Settings
) -> None:
    await sign_in_browser(page, live_server, "alice@example.com")
    await page.goto(live_server + "/t/acme/import")
    page.problems.allow_status(422)  # type: ignore[attr-defined]  # the wrong file first: the form says why
    await page.select_option("#import-object", "people")
    excel = {"name": "customers.xlsx", "mimeType": "application/octet-stream", "buffer": b"PK\x03\x04" + bytes(64)}
    await page.set_input_files("#import-file", excel)  # type: ignore[arg-type]
    await page.get_by_role("button", name="Upload and continue").click()
    await expect(page.locator("#import-error")).to_contain_text("This is an Excel workbook")
    await expect(page.locator("#import-object")).to_have_value("people")

    await page.set_input_files(
        "#import-file", {"name": "customers.csv", "mimeType": "text/csv", "buffer": _browser_csv()}
    )
    await page.get_by_role("button", name="Upload and continue").click()

    await page.wait_for_url(re.compile(r"/t/acme/import/[0-9a-f-]{36}$"))
    await expect(page.locator("select[name=column-2]")).to_have_value("email")
    await page.get_by_label("Import the valid rows and skip the others").check()
    await page.get_by_role("button", name="Preview").click()

    await page.wait_for_url(re.compile(r"/preview$"))
    await expect(page.locator("tr.import-line-fail")).to_have_count(1)
    await expect(page.locator("tr.import-line-fail")).to_contain_text("broken-address")
    await page.get_by_role("button", name=re.compile(r"^Import 29 rows$")).click()

    await page.wait_for_url(re.compile(r"/t/acme/imports/[0-9a-f-]{36}$"))
    await expect(page.get_by_text("The import has finished.").first).to_be_visible(timeout=20_000)
    await expect(page.locator("#import-progress-bar")).to_have_attribute("value", "100")
    await expect(page.locator("[data-count=created]")).to_have_text("28")
    report = page.locator("table.import-report tbody tr")
    await expect(report).to_have_count(1)
    await expect(report.first).to_contain_text("8")
    await expect(report.first).to_contain_text("E-mail")
    await expect(report.first).to_contain_text("broken-address")
    await runtime.open_pools(settings)  # this process reads the tenant's database too
    assert len(await _people(settings, world.acme)) == 28

    await page.go_back()  # back to the preview, which now links to the import instead of running it again
    await expect(page.get_by_role("button", name="See the import")).to_be_visible()

    await use_language(page, live_server, "ar")
    await page.goto(live_server + "/t/acme/import")
    await expect(page.locator("html")).to_have_attribute("dir", "rtl")
    await expect(page.locator("h1")).to_have_text("استيراد ملف CSV")
