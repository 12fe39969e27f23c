"""The list of any object (/t/{slug}/o/{object}): columns from the catalogue, filters, sorts, keyset pages, saved
views and bulk actions, over HTTP against a real tenant database."""

from __future__ import annotations

import html
import json
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import pytest
from httpx import AsyncClient

from app.accounts import repository as accounts
from app.crm import records, schema_changes, views
from app.crm.fields import Color, FieldDefinition, FieldType, SelectOption
from app.crm.metadata import Catalogue, ObjectDefinition, load_catalogue
from app.crm.records import Actor
from app.crm.services import crm_connection
from app.settings import Settings
from tests.conftest import World
from tests.people import sign_in

SYSTEM = Actor(source="system")


@pytest.fixture
async def acme(client: AsyncClient, world: World, settings: Settings) -> AsyncIterator[asyncpg.Connection]:
    """A connection to acme's CRM (the app's pools are open while `client` is)."""
    async with crm_connection(world.acme, settings) as connection:
        yield connection


async def _object(connection: asyncpg.Connection, name: str) -> ObjectDefinition:
    catalogue: Catalogue = await load_catalogue(connection)
    obj = catalogue.get(name)
    assert obj is not None
    return obj


async def _people(connection: asyncpg.Connection, *rows: dict[str, Any]) -> list[dict[str, Any]]:
    people = await _object(connection, "people")
    return [await records.create_record(connection, people, row, SYSTEM) for row in rows]


def _row_ids(page: str) -> list[str]:
    return re.findall(r'<tr data-row="([0-9a-f-]{36})"', page)


def _link(page: str, rel: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)" rel="{rel}"', page)
    return html.unescape(found[1]) if found else None


def _count(page: str) -> str:
    found = re.search(r'<span id="list-count"[^>]*>([^<]*)</span>', page)
    assert found is not None
    return found[1].strip()


def _token(client: AsyncClient) -> dict[str, str]:
    return {"x-csrftoken": client.cookies["csrftoken"]}


async def test_a_member_sees_customers_with_their_columns_and_links(
    client: AsyncClient, acme: asyncpg.Connection
) -> None:
    [sara] = await _people(acme, {"first_name": "Sara", "last_name": "Haddad", "city": "Jeddah", "phone": "0501234567"})
    await sign_in(client, "bob@example.com")

    response = await client.get("/t/acme/o/people")

    assert response.status_code == 200, response.text[-2500:]
    page = response.text
    assert f'<a href="/t/acme/o/people/{sara["id"]}" dir="auto">Sara Haddad</a>' in page
    assert "Jeddah" in page
    assert "+966501234567" in page
    for label in ("Phone", "E-mail", "City", "Company"):
        assert f">{label}<" in page
    assert 'href="/t/acme/o/people/new"' in page
    assert 'action="/t/acme/o/people/export"' in page
    # The export (and a saved view) keeps the name's fields too.
    assert '<input type="hidden" name="columns" value="first_name,last_name,phone,email,city,company">' in page
    assert "1 record" in page  # a single page: counted at once
    assert _row_ids(page) == [sara["id"]]


async def test_cells_are_inline_edit_slots_of_the_record_page(client: AsyncClient, acme: asyncpg.Connection) -> None:
    [sara] = await _people(acme, {"first_name": "Sara", "city": "Jeddah"})
    await sign_in(client, "alice@example.com")

    page = (await client.get("/t/acme/o/people?columns=city")).text

    row = re.search(rf'<tr data-row="{sara["id"]}" data-record-url="([^"]+)">', page)
    cell = re.search(r"<td data-field-slot[^>]*>Jeddah</td>", page)
    assert row is not None
    assert cell is not None
    assert row[1] == f"/t/acme/o/people/{sara['id']}"  # static/js/table.js asks <this>/fields/<field>/edit
    assert 'data-field="city"' in cell[0]
    assert 'tabindex="0"' in cell[0]
    edit = await client.get(f"{row[1]}/fields/city/edit", headers={"HX-Request": "true"})
    assert edit.status_code == 200
    assert 'name="city"' in edit.text


async def test_a_relation_cell_shows_the_related_records_name(client: AsyncClient, acme: asyncpg.Connection) -> None:
    companies = await _object(acme, "companies")
    company = await records.create_record(acme, companies, {"name": "Dar Al-Tamr"}, SYSTEM)
    await _people(acme, {"first_name": "Sara", "company": company["id"]}, {"first_name": "Huda"})
    await sign_in(client, "alice@example.com")

    page = (await client.get("/t/acme/o/people?columns=company&sort=first_name")).text

    cells = re.findall(r'<td data-field-slot data-field="company" tabindex="0">(.*?)</td>', page)
    assert cells == ["", "Dar Al-Tamr"]  # Huda has no company; Sara's is shown by its name, not its id


async def test_a_custom_field_and_a_custom_object_appear_without_new_code(
    client: AsyncClient, acme: asyncpg.Connection, world: World
) -> None:
    tier = FieldDefinition(
        name="tier",
        type=FieldType.SELECT,
        label_en="Loyalty tier",
        label_ar="فئة الولاء",
        options=(
            SelectOption("gold", "Gold", "ذهبي", Color.YELLOW),
            SelectOption("silver", "Silver", "فضي", Color.GRAY),
        ),
    )
    await schema_changes.add_field(acme, world.acme, "people", tier)
    await _people(acme, {"first_name": "Huda", "tier": "gold"})
    await schema_changes.create_object(
        acme,
        world.acme,
        schema_changes.NewObject(
            name="branches",
            singular="branch",
            label_singular_en="Branch",
            label_singular_ar="فرع",
            label_plural_en="Branches",
            label_plural_ar="الفروع",
        ),
    )
    branches = await _object(acme, "branches")
    await records.create_record(acme, branches, {"name": "Olaya branch"}, SYSTEM)
    await sign_in(client, "alice@example.com")

    chooser = (await client.get("/t/acme/o/people")).text
    with_tier = (await client.get("/t/acme/o/people?columns=city,tier")).text
    branch_list = await client.get("/t/acme/o/branches")

    assert 'name="col" value="tier"' in chooser
    assert '<option value="tier" data-ops=' in chooser  # the filter builder offers it too
    assert ">Loyalty tier<" in with_tier
    assert '<span class="chip chip-yellow">Gold</span>' in with_tier
    assert branch_list.status_code == 200
    assert "Olaya branch" in branch_list.text
    assert "<h1>Branches</h1>" in branch_list.text


async def test_the_filter_keeps_only_matching_rows(client: AsyncClient, acme: asyncpg.Connection) -> None:
    people = await _people(
        acme,
        {"first_name": "Omar", "city": "Riyadh"},
        {"first_name": "Lina", "city": "Jeddah"},
        {"first_name": "Khalid", "city": "Riyadh"},
    )
    await sign_in(client, "alice@example.com")

    page = (await client.get("/t/acme/o/people", params={"filter": 'city[eq]:"Riyadh"'})).text

    riyadh = {person["id"] for person in people if person["city"] == "Riyadh"}
    assert set(_row_ids(page)) == riyadh
    assert "Lina" not in page
    assert "2 records" in page


async def test_the_filter_builder_turns_its_rows_into_the_engine_filter(
    client: AsyncClient, acme: asyncpg.Connection
) -> None:
    await _people(acme, {"first_name": "Omar", "city": "Riyadh"}, {"first_name": "Lina", "city": "Jeddah"})
    await sign_in(client, "alice@example.com")

    response = await client.get(
        "/t/acme/o/people",
        params=[("ff", "city"), ("fo", "eq"), ("fv", "Riyadh"), ("ff", ""), ("fo", "eq"), ("fv", "")],
    )

    assert response.status_code == 303
    location = response.headers["location"]
    assert parse_qs(urlsplit(location).query)["filter"] == ['city[eq]:"Riyadh"']
    page = (await client.get(location)).text
    assert "Omar" in page
    assert "Lina" not in page
    # The builder shows the filter back as its rows.
    assert re.search(r'<option value="city" data-ops="[^"]*" selected>', page)
    assert 'name="fv" value="Riyadh"' in page


async def test_sorting_by_a_column_header_orders_the_rows(client: AsyncClient, acme: asyncpg.Connection) -> None:
    people = await _people(acme, *({"first_name": name} for name in ("Badr", "Amal", "Camilia")))
    by_name = {person["first_name"]: person["id"] for person in people}
    await sign_in(client, "alice@example.com")

    ascending = (await client.get("/t/acme/o/people", params={"sort": "first_name"})).text
    descending = (await client.get("/t/acme/o/people", params={"sort": "first_name:desc"})).text

    assert _row_ids(ascending) == [by_name["Amal"], by_name["Badr"], by_name["Camilia"]]
    assert _row_ids(descending) == [by_name["Camilia"], by_name["Badr"], by_name["Amal"]]
    assert 'aria-sort="ascending"' in ascending
    assert 'href="/t/acme/o/people?sort=first_name%3Adesc"' in ascending  # the header turns it around


async def test_the_first_page_is_read_anew_every_time(client: AsyncClient, acme: asyncpg.Connection) -> None:
    """How a list reads its first page is made once (app/crm/pages/list_data.py); what it reads is not."""
    people = await _people(acme, *({"first_name": f"Customer {n:03d}"} for n in range(60)))
    await sign_in(client, "alice@example.com")
    before = (await client.get("/t/acme/o/people", params={"sort": "first_name"})).text

    [newest] = await _people(acme, {"first_name": "Aaliyah"})
    renamed = {"first_name": "Zaid"}
    await records.update_record(acme, await _object(acme, "people"), uuid.UUID(people[0]["id"]), renamed, SYSTEM)
    after = (await client.get("/t/acme/o/people", params={"sort": "first_name"})).text

    assert _row_ids(before)[0] == people[0]["id"]
    assert _row_ids(after)[0] == newest["id"]
    assert people[0]["id"] not in _row_ids(after)  # renamed to the end of the list
    next_url = _link(after, "next")
    assert next_url is not None
    assert _row_ids((await client.get(next_url)).text)[-1] == people[0]["id"]


async def test_what_surrounds_the_rows_follows_them(client: AsyncClient, acme: asyncpg.Connection) -> None:
    """The page around the rows is remembered per process (`_list_content` in lists.py); the count of a single page,
    the empty list's invitation and the pager come from the rows read for this request."""
    await sign_in(client, "alice@example.com")
    empty = (await client.get("/t/acme/o/people")).text
    await _people(acme, {"first_name": "Sara"}, {"first_name": "Omar"})
    two = (await client.get("/t/acme/o/people")).text
    await _people(acme, {"first_name": "Noura"})
    three = (await client.get("/t/acme/o/people")).text
    await _people(acme, *({"first_name": f"Customer {n:03d}"} for n in range(60)))
    many = (await client.get("/t/acme/o/people")).text

    assert "Nothing here yet." in empty
    assert _row_ids(empty) == []
    assert "Nothing here yet." not in two
    assert len(_row_ids(two)) == 2
    assert _count(two) == "2 records"
    assert _count(three) == "3 records"
    assert _count(many) == ""  # more than a page: asked for after the page is shown
    assert _link(three, "next") is None
    assert _link(many, "next") is not None
    assert len(_row_ids(many)) == 50


async def test_pages_go_forward_and_back_without_gaps_or_repeats(client: AsyncClient, acme: asyncpg.Connection) -> None:
    people = await _people(acme, *({"first_name": f"Customer {n:03d}"} for n in range(120)))
    expected = [person["id"] for person in sorted(people, key=lambda person: person["first_name"])]
    await sign_in(client, "alice@example.com")

    first = (await client.get("/t/acme/o/people", params={"sort": "first_name"})).text
    second_url = _link(first, "next")
    assert second_url is not None
    assert _link(first, "prev") is None
    second = (await client.get(second_url)).text
    third_url = _link(second, "next")
    assert third_url is not None
    third = (await client.get(third_url)).text
    back_url = _link(third, "prev")
    assert back_url is not None
    back = (await client.get(back_url)).text

    assert _row_ids(first) + _row_ids(second) + _row_ids(third) == expected
    assert _link(third, "next") is None
    assert _row_ids(back) == _row_ids(second)
    assert "records" not in first.split("</h1>")[1].split("</span>")[0]  # more than one page: not counted up front
    assert 'hx-get="/t/acme/o/people/count' in first


async def test_next_page_over_htmx_swaps_only_the_rows(client: AsyncClient, acme: asyncpg.Connection) -> None:
    await _people(acme, *({"first_name": f"Customer {n:03d}"} for n in range(60)))
    await sign_in(client, "alice@example.com")
    first = (await client.get("/t/acme/o/people", params={"sort": "first_name"})).text
    next_url = _link(first, "next")
    assert next_url is not None

    fragment = await client.get(next_url, headers={"HX-Request": "true", "HX-Target": "list-rows"})

    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<tbody id="list-rows">')
    assert "<html" not in fragment.text
    assert len(_row_ids(fragment.text)) == 10
    assert 'id="list-pager" class="list-pager" aria-label="Pages" hx-swap-oob="true"' in fragment.text


async def test_the_count_is_asked_for_separately_and_capped(client: AsyncClient, acme: asyncpg.Connection) -> None:
    await _people(acme, *({"first_name": f"P{n}", "city": "Riyadh" if n % 2 else "Jeddah"} for n in range(60)))
    await sign_in(client, "alice@example.com")

    every = await client.get("/t/acme/o/people/count")
    riyadh = await client.get("/t/acme/o/people/count", params={"filter": 'city[eq]:"Riyadh"'})

    assert every.text == "60 records"
    assert riyadh.text == "30 records"


async def test_a_bad_filter_is_a_400_with_the_engines_reason(client: AsyncClient, acme: asyncpg.Connection) -> None:
    await _people(acme, {"first_name": "Omar"})
    await sign_in(client, "alice@example.com")

    page = await client.get("/t/acme/o/people", params={"filter": "nope[eq]:1"})
    htmx = await client.get("/t/acme/o/people", params={"filter": "city[eq:"}, headers={"HX-Request": "true"})
    bad_number = await client.get("/t/acme/o/products", params={"filter": 'quantity[gt]:"lots"'})

    assert page.status_code == 400
    assert "unknown field &#39;nope&#39;" in page.text
    assert 'name="filter" value="nope[eq]:1"' in page.text  # what was typed stays, to be fixed
    assert htmx.status_code == 400
    toast = json.loads(htmx.headers["HX-Trigger"])["wosool:toast"]
    assert toast["kind"] == "error"
    assert "expected" in toast["message"]
    assert bad_number.status_code == 400
    assert "expected a number" in bad_number.text


async def test_another_tenants_lists_do_not_exist(client: AsyncClient, acme: asyncpg.Connection) -> None:
    await _people(acme, {"first_name": "Secret"})
    await sign_in(client, "charlie@example.com")

    lists = await client.get("/t/acme/o/people")
    count = await client.get("/t/acme/o/people/count")
    own = await client.get("/t/noor/o/people")
    unknown = await client.get("/t/noor/o/no_such_object")

    assert lists.status_code == 404
    assert count.status_code == 404
    assert "Secret" not in lists.text
    assert own.status_code == 200
    assert unknown.status_code == 404


async def test_html_in_a_record_is_shown_as_text(client: AsyncClient, acme: asyncpg.Connection) -> None:
    await _people(acme, {"first_name": "<script>alert(1)</script>", "city": "<b>Riyadh</b>"})
    await sign_in(client, "alice@example.com")

    page = (await client.get("/t/acme/o/people")).text

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>Riyadh</b>" not in page
    assert "&lt;b&gt;Riyadh&lt;/b&gt;" in page


async def test_bulk_delete_removes_the_selected_records(client: AsyncClient, acme: asyncpg.Connection) -> None:
    people = await _people(acme, *({"first_name": name} for name in ("Amal", "Badr", "Camilia")))
    await sign_in(client, "alice@example.com")

    response = await client.post(
        "/t/acme/o/people/bulk/delete",
        data={"ids": [people[0]["id"], people[2]["id"]], "sort": "first_name"},
        headers={**_token(client), "HX-Request": "true"},
    )

    assert response.status_code == 200
    assert json.loads(response.headers["HX-Trigger"])["wosool:toast"]["message"] == "2 records deleted."
    assert _row_ids(response.text) == [people[1]["id"]]
    obj = await _object(acme, "people")
    for gone in (people[0], people[2]):
        with pytest.raises(records.RecordNotFound):
            await records.get_record(acme, obj, uuid.UUID(gone["id"]))
    assert (await records.get_record(acme, obj, uuid.UUID(people[1]["id"])))["first_name"] == "Badr"


async def test_bulk_update_sets_a_select_field_on_every_selected_record(
    client: AsyncClient, acme: asyncpg.Connection
) -> None:
    tasks = await _object(acme, "tasks")
    made = [
        await records.create_record(acme, tasks, {"title": f"Call {n}", "status": "todo"}, SYSTEM) for n in range(3)
    ]
    await sign_in(client, "alice@example.com")
    chosen = [made[0]["id"], made[1]["id"]]

    done = await client.post(
        "/t/acme/o/tasks/bulk/update", data={"ids": chosen, "change": "status:done"}, headers=_token(client)
    )
    refused = await client.post(
        "/t/acme/o/tasks/bulk/update", data={"ids": [made[2]["id"]], "change": "status:someday"}, headers=_token(client)
    )
    not_a_select = await client.post(
        "/t/acme/o/tasks/bulk/update", data={"ids": [made[2]["id"]], "change": "title:x"}, headers=_token(client)
    )

    assert done.status_code == 200
    assert json.loads(done.headers["HX-Trigger"])["wosool:toast"]["message"] == "Status set to Done for 2 records."
    statuses = {
        task["id"]: task["status"] for task in [await records.get_record(acme, tasks, uuid.UUID(t["id"])) for t in made]
    }
    assert statuses == {made[0]["id"]: "done", made[1]["id"]: "done", made[2]["id"]: "todo"}
    assert refused.status_code == 400
    assert "someday" in json.loads(refused.headers["HX-Trigger"])["wosool:toast"]["message"]
    assert not_a_select.status_code == 400


async def test_bulk_actions_need_a_selection(client: AsyncClient, acme: asyncpg.Connection) -> None:
    await sign_in(client, "alice@example.com")

    response = await client.post("/t/acme/o/people/bulk/delete", data={"ids": []}, headers=_token(client))

    assert response.status_code == 400


async def test_a_list_is_saved_as_a_view_and_deleted_again(client: AsyncClient, acme: asyncpg.Connection) -> None:
    await _people(acme, {"first_name": "Omar", "city": "Riyadh"}, {"first_name": "Lina", "city": "Jeddah"})
    await sign_in(client, "bob@example.com")

    saved = await client.post(
        "/t/acme/o/people/views",
        data={"name": "Riyadh customers", "filter": 'city[eq]:"Riyadh"', "sort": "first_name:desc", "columns": "city"},
        headers=_token(client),
    )

    assert saved.status_code == 303
    view_id = parse_qs(urlsplit(saved.headers["location"]).query)["view"][0]
    bob = [view for view in await views.list_views(acme, "people", None) if view["id"] == view_id]
    assert bob == []  # bob's own view: not shared
    page = (await client.get(saved.headers["location"])).text
    assert "Omar" in page
    assert "Lina" not in page
    assert 'aria-current="page">Riyadh customers' in page

    deleted = await client.post(f"/t/acme/o/people/views/{view_id}/delete", headers=_token(client))
    shared = next(view for view in await views.list_views(acme, "people", None) if view["shared"])
    refused = await client.post(f"/t/acme/o/people/views/{shared['id']}/delete", headers=_token(client))

    assert deleted.status_code == 303
    assert refused.status_code == 403  # bob is a member: shared views are for owners and admins to change
    bob_user = await accounts.user_by_email("bob@example.com")
    assert bob_user is not None
    remaining = {view["id"] for view in await views.list_views(acme, "people", bob_user.id)}
    assert view_id not in remaining
    assert shared["id"] in remaining


async def test_the_list_speaks_arabic(client: AsyncClient, acme: asyncpg.Connection) -> None:
    await _people(acme, {"first_name": "سارة", "city": "الرياض"})
    await sign_in(client, "alice@example.com")
    await client.get("/language/ar?next=/")

    page = (await client.get("/t/acme/o/people")).text

    assert '<html lang="ar" dir="rtl">' in page
    assert "<h1>العملاء</h1>" in page
    for label in ("الجوال", "البريد الإلكتروني", "المدينة"):
        assert f">{label}<" in page
    assert ">تصفية" in page  # the filter tool
    assert "تصدير هذا العرض" in page
    assert "Export this view" not in page
    assert ">1 سجل<" in page  # the count, in Arabic


async def test_a_saved_views_filter_applies_to_its_viewer_until_the_url_clears_it(
    client: AsyncClient, acme: asyncpg.Connection
) -> None:
    alice = await accounts.user_by_email("alice@example.com")
    assert alice is not None
    tasks = await _object(acme, "tasks")
    mine, done, theirs = [
        await records.create_record(acme, tasks, row, SYSTEM)
        for row in (
            {"title": "Call Huda", "status": "todo", "assignee": str(alice.id)},
            {"title": "Ship order", "status": "done", "assignee": str(alice.id)},
            {"title": "Someone else's", "status": "todo"},
        )
    ]
    await sign_in(client, "alice@example.com")

    default = (await client.get("/t/acme/o/tasks")).text  # "My open tasks": status is not done, assignee is @me
    everything = (await client.get("/t/acme/o/tasks", params={"filter": ""})).text

    assert _row_ids(default) == [mine["id"]]
    assert 'value="@me"' in default  # the builder shows whoever looks, not an id
    assert set(_row_ids(everything)) == {mine["id"], done["id"], theirs["id"]}
