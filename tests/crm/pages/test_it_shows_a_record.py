"""The record page: every field with its label in the viewer's language, related records with links to their pages,
the timeline of who changed what, and nothing of another tenant."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from httpx import AsyncClient

from app.crm import records, schema_changes
from app.crm.metadata import Catalogue
from app.crm.records import Actor
from app.crm.services import catalogue_of, crm_connection
from app.settings import Settings
from app.tenancy.repository import TenantRecord
from tests.conftest import World
from tests.people import sign_in

ALICE = Actor(source="user", id=str(uuid.uuid4()), name="Alice Admin")


@asynccontextmanager
async def crm(settings: Settings, tenant: TenantRecord) -> AsyncIterator[tuple[Any, Catalogue]]:
    async with crm_connection(tenant, settings) as connection:
        yield connection, await catalogue_of(connection, tenant)


async def _customer_with_history(settings: Settings, world: World) -> dict[str, str]:
    async with crm(settings, world.acme) as (connection, catalogue):
        company = await records.create_record(connection, catalogue.objects["companies"], {"name": "Oud House"}, ALICE)
        person = await records.create_record(
            connection,
            catalogue.objects["people"],
            {"first_name": "Sara", "last_name": "Al-Harbi", "city": "Riyadh", "company": company["id"]},
            ALICE,
        )
        order = await records.create_record(
            connection,
            catalogue.objects["orders"],
            {"reference": "ORD-1001", "customer": person["id"], "total": {"amount": "240.00", "currency": "SAR"}},
            ALICE,
        )
        deal = await records.create_record(
            connection,
            catalogue.objects["opportunities"],
            {"name": "Wedding gifts", "stage": "proposal", "point_of_contact": person["id"]},
            ALICE,
        )
        await records.update_record(
            connection, catalogue.objects["people"], uuid.UUID(person["id"]), {"city": "Jeddah"}, ALICE
        )
    return {"company": company["id"], "person": person["id"], "order": order["id"], "deal": deal["id"]}


async def test_a_customer_page_shows_fields_related_records_and_the_timeline(
    client: AsyncClient, world: World, settings: Settings
) -> None:
    ids = await _customer_with_history(settings, world)
    await sign_in(client, "alice@example.com")

    page = await client.get(f"/t/acme/o/people/{ids['person']}")

    assert page.status_code == 200
    html = page.text
    assert '<h1 dir="auto">Sara Al-Harbi</h1>' in html
    assert ">City</dt>" in html
    assert "Jeddah" in html
    assert f'<a href="/t/acme/o/companies/{ids["company"]}" dir="auto">Oud House</a>' in html  # the company
    # Related: the order and the deal that point at this customer, linked to their pages.
    assert f'href="/t/acme/o/orders/{ids["order"]}"' in html
    assert "ORD-1001" in html
    assert f'href="/t/acme/o/opportunities/{ids["deal"]}"' in html
    assert "Wedding gifts" in html
    # Timeline: created, then the city changed from Riyadh to Jeddah, by Alice.
    timeline = html.split('id="record-timeline"')[1]
    assert "Created by Alice Admin" in timeline
    assert "Changed by Alice Admin" in timeline
    changed = timeline.split("Changed by Alice Admin")[1].split("</li>")[0]
    assert "<del>Riyadh</del>" in changed
    assert "<ins>Jeddah</ins>" in changed
    # Each field can be edited in place.
    assert f'hx-get="/t/acme/o/people/{ids["person"]}/fields/city/edit"' in html


async def test_a_company_page_lists_its_people(client: AsyncClient, world: World, settings: Settings) -> None:
    ids = await _customer_with_history(settings, world)
    await sign_in(client, "alice@example.com")

    page = await client.get(f"/t/acme/o/companies/{ids['company']}")

    assert page.status_code == 200
    assert f'href="/t/acme/o/people/{ids["person"]}"' in page.text
    assert "Sara Al-Harbi" in page.text


async def test_the_timeline_fragment_refreshes_on_its_own(
    client: AsyncClient, world: World, settings: Settings
) -> None:
    ids = await _customer_with_history(settings, world)
    await sign_in(client, "alice@example.com")

    fragment = await client.get(f"/t/acme/o/people/{ids['person']}/timeline", headers={"HX-Request": "true"})

    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith("<section")
    assert "<html" not in fragment.text
    assert fragment.text.count('class="timeline-entry') == 2


async def test_the_page_speaks_arabic_right_to_left(client: AsyncClient, world: World, settings: Settings) -> None:
    ids = await _customer_with_history(settings, world)
    await sign_in(client, "alice@example.com")
    client.cookies.set("wosool_lang", "ar")

    page = await client.get(f"/t/acme/o/people/{ids['person']}")

    assert page.status_code == 200
    assert 'dir="rtl"' in page.text
    assert ">المدينة</dt>" in page.text  # City
    assert "السجل الزمني" in page.text  # Timeline
    assert "أُنشئ بواسطة Alice Admin" in page.text  # Created by Alice Admin
    assert "الصفقات" in page.text  # Deals, the related object


async def test_values_are_escaped(client: AsyncClient, world: World, settings: Settings) -> None:
    async with crm(settings, world.acme) as (connection, catalogue):
        person = await records.create_record(
            connection,
            catalogue.objects["people"],
            {"first_name": "<script>alert(1)</script>", "city": '"><img src=x onerror=alert(2)>'},
            ALICE,
        )
    await sign_in(client, "alice@example.com")

    page = await client.get(f"/t/acme/o/people/{person['id']}")

    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<img src=x" not in page.text


async def test_unknown_objects_and_records_are_404(client: AsyncClient, world: World, settings: Settings) -> None:
    ids = await _customer_with_history(settings, world)
    await sign_in(client, "alice@example.com")

    assert (await client.get(f"/t/acme/o/nothing/{ids['person']}")).status_code == 404
    assert (await client.get(f"/t/acme/o/people/{uuid.uuid4()}")).status_code == 404
    assert (await client.get(f"/t/acme/o/companies/{ids['person']}")).status_code == 404
    assert (await client.get("/t/acme/o/people/not-an-id")).status_code == 404
    assert (await client.get(f"/t/acme/o/people/{ids['person']}/fields/nothing")).status_code == 404


async def test_a_deleted_record_is_404(client: AsyncClient, world: World, settings: Settings) -> None:
    ids = await _customer_with_history(settings, world)
    async with crm(settings, world.acme) as (connection, catalogue):
        await records.delete_record(connection, catalogue.objects["orders"], uuid.UUID(ids["order"]), ALICE)
    await sign_in(client, "alice@example.com")

    assert (await client.get(f"/t/acme/o/orders/{ids['order']}")).status_code == 404
    customer = await client.get(f"/t/acme/o/people/{ids['person']}")
    assert "ORD-1001" not in customer.text.split('id="record-timeline"')[0]


async def test_another_tenant_cannot_open_the_record(client: AsyncClient, world: World, settings: Settings) -> None:
    ids = await _customer_with_history(settings, world)
    await sign_in(client, "charlie@example.com")

    for url in (
        f"/t/acme/o/people/{ids['person']}",
        f"/t/acme/o/people/{ids['person']}/edit",
        f"/t/acme/o/people/{ids['person']}/timeline",
        f"/t/acme/o/people/{ids['person']}/fields/city",
        f"/t/acme/o/people/{ids['person']}/fields/city/edit",
        "/t/acme/o/people/new",
        f"/t/noor/o/people/{ids['person']}",  # charlie's own tenant: that id is not there
    ):
        assert (await client.get(url)).status_code == 404, url


def _field_block(page: str, field: str) -> str:
    found = re.search(rf'<div class="record-field" data-field="{field}">(.*?)</div>', page, re.S)
    assert found is not None, f"no {field} field on the page"
    return " ".join(found.group(1).split())


async def test_a_relabelled_field_and_an_emptied_value_show_at_once(
    client: AsyncClient, world: World, settings: Settings
) -> None:
    ids = await _customer_with_history(settings, world)
    await sign_in(client, "alice@example.com")
    url = f"/t/acme/o/people/{ids['person']}"
    edit = f'hx-get="{url}/fields/city/edit"'
    first = _field_block((await client.get(url)).text, "city")

    async with crm(settings, world.acme) as (connection, _before):
        await schema_changes.change_field(
            connection, world.acme, "people", "city", schema_changes.FieldChanges(label_en="Town", label_ar="البلدة")
        )
        people = (await catalogue_of(connection, world.acme)).objects["people"]
        await records.update_record(connection, people, uuid.UUID(ids["person"]), {"city": None}, ALICE)
    changed = _field_block((await client.get(url)).text, "city")
    client.cookies.set("wosool_lang", "ar")
    arabic = _field_block((await client.get(url)).text, "city")

    assert '<dt id="label-city">City</dt>' in first
    assert ">Jeddah</span>" in first
    assert edit in first
    assert 'aria-label="Edit City"' in first
    assert '<dt id="label-city">Town</dt>' in changed
    assert '<span class="muted field-empty">Empty</span>' in changed
    assert edit in changed
    assert 'aria-label="Edit Town"' in changed
    assert '<dt id="label-city">البلدة</dt>' in arabic
    assert edit in arabic


async def test_a_value_is_shown_in_the_pages_language(client: AsyncClient, world: World, settings: Settings) -> None:
    ids = await _customer_with_history(settings, world)
    await sign_in(client, "alice@example.com")
    url = f"/t/acme/o/opportunities/{ids['deal']}"

    english = _field_block((await client.get(url)).text, "stage")
    client.cookies.set("wosool_lang", "ar")
    arabic = _field_block((await client.get(url)).text, "stage")
    client.cookies.set("wosool_lang", "en")
    english_again = _field_block((await client.get(url)).text, "stage")

    chip = re.compile(r'<span class="chip chip-\w+">([^<]+)</span>')
    assert chip.findall(english) == chip.findall(english_again) == ["Proposal"]
    assert len(chip.findall(arabic)) == 1
    assert chip.findall(arabic) != ["Proposal"]
