"""Create and edit forms for any object: every field type gets an input, the engine's reasons come back next to the
fields with everything typed kept (422), nothing is stored until the form is right, and a success moves on to the
record's page."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from httpx import AsyncClient, Response

from app.crm import records, schema_changes
from app.crm.fields import FieldDefinition, SelectOption
from app.crm.metadata import Catalogue
from app.crm.records import Actor, RecordNotFound
from app.crm.services import catalogue_of, crm_connection
from app.settings import Settings
from app.tenancy.repository import TenantRecord
from tests.conftest import World
from tests.people import sign_in

SYSTEM = Actor(source="system")


@asynccontextmanager
async def crm(settings: Settings, tenant: TenantRecord) -> AsyncIterator[tuple[Any, Catalogue]]:
    async with crm_connection(tenant, settings) as connection:
        yield connection, await catalogue_of(connection, tenant)


def _htmx(client: AsyncClient) -> dict[str, str]:
    return {"x-csrftoken": client.cookies.get("csrftoken", ""), "HX-Request": "true"}


async def _count(settings: Settings, tenant: TenantRecord, object_name: str) -> int:
    async with crm(settings, tenant) as (connection, catalogue):
        page = await records.list_records(
            connection,
            catalogue.objects[object_name],
            filter_text=None,
            sort_text=None,
            limit_text=None,
            cursor=None,
            with_total=True,
        )
    assert page.total is not None
    return page.total


def _location(response: Response) -> str:
    return str(json.loads(response.headers["HX-Location"])["path"])


async def test_a_customer_is_added_through_the_form(client: AsyncClient, world: World, settings: Settings) -> None:
    await sign_in(client, "alice@example.com")
    form = await client.get("/t/acme/o/people/new")
    assert form.status_code == 200
    for name in ("first_name", "email.primary", "email.additional", "phone.primary", "company"):
        assert f'name="{name}"' in form.text, name

    created = await client.post(
        "/t/acme/o/people",
        data={
            "_fields": ["first_name", "last_name", "email", "phone", "city"],
            "first_name": "Sara",
            "last_name": "Al-Harbi",
            "email.primary": "Sara@Example.COM",
            "email.additional": "sara.work@example.com, sara@example.org",
            "phone.primary": "0501234567",
            "phone.additional": "",
            "city": "الرياض",
        },
        headers=_htmx(client),
    )

    assert created.status_code == 200, created.text
    path = _location(created)
    assert path.startswith("/t/acme/o/people/")
    assert "wosool:toast-next" in created.headers["HX-Trigger"]
    async with crm(settings, world.acme) as (connection, catalogue):
        stored = await records.get_record(connection, catalogue.objects["people"], uuid.UUID(path.rsplit("/", 1)[1]))
    assert stored["first_name"] == "Sara"
    assert stored["email"] == {
        "primary": "sara@example.com",
        "additional": ["sara.work@example.com", "sara@example.org"],
    }
    assert stored["phone"]["primary"] == "+966501234567"
    assert stored["city"] == "الرياض"
    assert stored["created_by"]["source"] == "user"
    page = await client.get(path)
    assert page.status_code == 200
    assert "Sara Al-Harbi" in page.text


async def test_without_htmx_a_created_record_is_a_303_to_its_page(
    client: AsyncClient, world: World, settings: Settings
) -> None:
    await sign_in(client, "alice@example.com")

    created = await client.post(
        "/t/acme/o/companies",
        data={"name": "Oud House", "_csrf_token": client.cookies["csrftoken"]},
    )

    assert created.status_code == 303
    assert created.headers["location"].startswith("/t/acme/o/companies/")
    assert await _count(settings, world.acme, "companies") == 1


async def test_a_deal_takes_a_select_money_a_date_and_a_relation(
    client: AsyncClient, world: World, settings: Settings
) -> None:
    async with crm(settings, world.acme) as (connection, catalogue):
        person = await records.create_record(connection, catalogue.objects["people"], {"first_name": "Huda"}, SYSTEM)
    await sign_in(client, "alice@example.com")
    form = await client.get("/t/acme/o/opportunities/new")
    assert f'<option value="{person["id"]}">Huda</option>' in form.text
    assert 'name="amount.currency"' in form.text
    assert 'value="SAR" selected' in form.text

    created = await client.post(
        "/t/acme/o/opportunities",
        data={
            "_fields": ["name", "stage", "amount", "close_date", "point_of_contact", "company"],
            "name": "Eid hampers",
            "stage": "proposal",
            "amount.amount": "1,250.50",
            "amount.currency": "SAR",
            "close_date": "2026-03-15",
            "point_of_contact": person["id"],
            "company": "",
        },
        headers=_htmx(client),
    )

    assert created.status_code == 200, created.text
    async with crm(settings, world.acme) as (connection, catalogue):
        deal = await records.get_record(
            connection, catalogue.objects["opportunities"], uuid.UUID(_location(created).rsplit("/", 1)[1])
        )
    assert deal["stage"] == "proposal"
    assert deal["amount"] == {"amount": "1250.50", "amount_minor": 125050, "currency": "SAR"}
    assert deal["close_date"] == "2026-03-15"
    assert deal["point_of_contact"] == person["id"]
    assert deal["company"] is None


async def test_bad_values_come_back_with_reasons_and_everything_typed(
    client: AsyncClient, world: World, settings: Settings
) -> None:
    await sign_in(client, "alice@example.com")

    answer = await client.post(
        "/t/acme/o/people",
        data={
            "_fields": ["first_name", "email", "phone", "city", "company"],
            "first_name": "Sara <b>bold</b>",
            "email.primary": "not-an-email",
            "email.additional": "",
            "phone.primary": "12ab",
            "phone.additional": "",
            "city": "Jeddah",
            "company": str(uuid.uuid4()),  # no such company
        },
        headers=_htmx(client),
    )

    assert answer.status_code == 422
    html = answer.text
    assert "This is not a valid phone number." in html
    assert "This is not a valid e-mail address." in html
    assert "Choose a record from the list." in html
    assert 'id="f-phone-error"' in html
    assert 'aria-describedby="f-phone-error"' in html
    assert 'aria-invalid="true"' in html
    # Everything typed is still there (escaped).
    assert 'value="Sara &lt;b&gt;bold&lt;/b&gt;"' in html
    assert 'value="not-an-email"' in html
    assert 'value="12ab"' in html
    assert 'value="Jeddah"' in html
    assert "<b>bold</b>" not in html
    assert await _count(settings, world.acme, "people") == 0


async def test_a_required_field_left_empty_is_named(client: AsyncClient, world: World, settings: Settings) -> None:
    await sign_in(client, "alice@example.com")

    answer = await client.post(
        "/t/acme/o/companies",
        data={"_fields": ["name", "employees"], "name": "  ", "employees": "12.5"},
        headers=_htmx(client),
    )

    assert answer.status_code == 422
    assert "This field is required." in answer.text
    assert "Enter a whole number." in answer.text  # employees are counted
    assert 'value="12.5"' in answer.text
    assert await _count(settings, world.acme, "companies") == 0


async def test_the_reasons_are_in_arabic_for_an_arabic_reader(
    client: AsyncClient, world: World, settings: Settings
) -> None:
    await sign_in(client, "alice@example.com")
    client.cookies.set("wosool_lang", "ar")

    form = await client.get("/t/acme/o/people/new")
    answer = await client.post(
        "/t/acme/o/people",
        data={"_fields": ["phone"], "phone.primary": "12ab", "phone.additional": ""},
        headers=_htmx(client),
    )

    assert 'dir="rtl"' in form.text
    assert "الاسم الأول" in form.text  # First name
    assert "إضافة عميل" in form.text  # New customer
    assert answer.status_code == 422
    assert "رقم الجوال غير صحيح." in answer.text


async def test_every_field_type_has_an_input_and_is_stored(
    client: AsyncClient, world: World, settings: Settings
) -> None:
    """Custom fields appear in the form without new code: a multi-select, a yes/no, a rating, a date and time,
    an address, a full name, links, rich text and JSON."""
    options = (SelectOption("perfume", "Perfume", "عطور"), SelectOption("oud", "Oud", "عود"))
    custom = [
        FieldDefinition("interests", "multi_select", "Interests", "الاهتمامات", options=options),
        FieldDefinition("vip", "boolean", "VIP", "عميل مميز"),
        FieldDefinition("stars", "rating", "Stars", "التقييم"),
        FieldDefinition("last_visit", "datetime", "Last visit", "آخر زيارة"),
        FieldDefinition("shipping", "address", "Shipping", "عنوان الشحن"),
        FieldDefinition("nickname", "full_name", "Nickname", "اللقب"),
        FieldDefinition("profiles", "links", "Profiles", "الحسابات"),
        FieldDefinition("bio", "rich_text", "Bio", "نبذة"),
        FieldDefinition("extra", "json", "Extra", "بيانات إضافية"),
        FieldDefinition("spent", "number", "Spent", "المصروف"),
    ]
    async with crm(settings, world.acme) as (connection, _catalogue):
        for field in custom:
            await schema_changes.add_field(connection, world.acme, "people", field)
    await sign_in(client, "alice@example.com")

    form = await client.get("/t/acme/o/people/new")
    assert 'type="checkbox" name="interests" value="oud"' in form.text
    assert 'type="datetime-local"' in form.text
    assert 'name="shipping.country"' in form.text
    assert '<option value="SA">Saudi Arabia</option>' in form.text
    created = await client.post(
        "/t/acme/o/people",
        data={
            "_fields": [f.name for f in custom] + ["first_name"],
            "first_name": "Noura",
            "interests": ["oud", "perfume"],
            "vip": "true",
            "stars": "4",
            "last_visit": "2026-01-31T09:30",
            "shipping.street": "King Fahd Rd",
            "shipping.city": "Riyadh",
            "shipping.region": "",
            "shipping.postal_code": "12211",
            "shipping.country": "SA",
            "nickname.first": "Nono",
            "nickname.last": "",
            "profiles.primary_url": "instagram.com/noura",
            "profiles.primary_label": "Instagram",
            "profiles.additional": "https://x.com/noura X\nhttps://tiktok.com/@noura",
            "bio": "Loves <b>oud</b><script>alert(1)</script>",
            "extra": '{"source": "expo", "visits": 3}',
            "spent": "١٢٣٫٥",
        },
        headers=_htmx(client),
    )

    assert created.status_code == 200, created.text
    async with crm(settings, world.acme) as (connection, catalogue):
        stored = await records.get_record(
            connection, catalogue.objects["people"], uuid.UUID(_location(created).rsplit("/", 1)[1])
        )
    assert stored["interests"] == ["perfume", "oud"]
    assert stored["vip"] is True
    assert stored["stars"] == 4
    assert stored["last_visit"] == "2026-01-31T06:30:00Z"  # 09:30 in Riyadh
    assert stored["shipping"] == {
        "street": "King Fahd Rd",
        "city": "Riyadh",
        "region": None,
        "postal_code": "12211",
        "country": "SA",
    }
    assert stored["nickname"] == {"first": "Nono", "last": None}
    assert stored["profiles"]["primary_url"] == "https://instagram.com/noura"
    assert stored["profiles"]["additional"] == [
        {"url": "https://x.com/noura", "label": "X"},
        {"url": "https://tiktok.com/@noura", "label": None},
    ]
    assert "<script>" not in stored["bio"]
    assert "<b>oud</b>" in stored["bio"]
    assert stored["extra"] == {"source": "expo", "visits": 3}
    assert stored["spent"] == 123.5

    # The edit form shows it all again, the datetime in the workspace's time zone.
    edit = await client.get(f"{_location(created)}/edit")
    assert 'value="2026-01-31T09:30"' in edit.text
    assert 'value="oud" checked' in edit.text
    assert '<option value="4" selected>' in edit.text


async def test_json_that_does_not_parse_is_explained(client: AsyncClient, world: World, settings: Settings) -> None:
    async with crm(settings, world.acme) as (connection, _catalogue):
        await schema_changes.add_field(
            connection, world.acme, "people", FieldDefinition("extra", "json", "Extra", "إضافي")
        )
    await sign_in(client, "alice@example.com")

    answer = await client.post(
        "/t/acme/o/people", data={"_fields": ["extra"], "extra": "{not json"}, headers=_htmx(client)
    )

    assert answer.status_code == 422
    assert "This is not valid JSON." in answer.text
    assert "{not json</textarea>" in answer.text


async def test_a_record_is_edited_through_the_full_form(client: AsyncClient, world: World, settings: Settings) -> None:
    async with crm(settings, world.acme) as (connection, catalogue):
        person = await records.create_record(
            connection,
            catalogue.objects["people"],
            {"first_name": "Sara", "city": "Riyadh", "email": "sara@example.com"},
            SYSTEM,
        )
    await sign_in(client, "alice@example.com")
    url = f"/t/acme/o/people/{person['id']}"

    form = await client.get(f"{url}/edit")
    assert form.status_code == 200
    assert 'value="Riyadh"' in form.text
    assert 'value="sara@example.com"' in form.text
    saved = await client.post(
        url,
        data={"_fields": ["first_name", "city"], "first_name": "Sara", "city": "Jeddah"},
        headers=_htmx(client),
    )

    assert saved.status_code == 200, saved.text
    assert _location(saved) == url
    async with crm(settings, world.acme) as (connection, catalogue):
        stored = await records.get_record(connection, catalogue.objects["people"], uuid.UUID(person["id"]))
        history = await records.timeline(connection, catalogue.objects["people"], uuid.UUID(person["id"]))
    assert stored["city"] == "Jeddah"
    assert stored["email"]["primary"] == "sara@example.com"  # not in the form: untouched
    assert history[0]["kind"] == "updated"
    assert history[0]["changes"] == {"city": ["Riyadh", "Jeddah"]}


async def test_a_bad_edit_changes_nothing_and_keeps_the_text(
    client: AsyncClient, world: World, settings: Settings
) -> None:
    async with crm(settings, world.acme) as (connection, catalogue):
        person = await records.create_record(
            connection, catalogue.objects["people"], {"first_name": "Sara", "city": "Riyadh"}, SYSTEM
        )
    await sign_in(client, "alice@example.com")

    answer = await client.post(
        f"/t/acme/o/people/{person['id']}",
        data={"_fields": ["city", "phone"], "city": "Dammam", "phone.primary": "555", "phone.additional": ""},
        headers=_htmx(client),
    )

    assert answer.status_code == 422
    assert 'value="Dammam"' in answer.text
    assert 'value="555"' in answer.text
    assert "This is not a valid phone number." in answer.text
    async with crm(settings, world.acme) as (connection, catalogue):
        stored = await records.get_record(connection, catalogue.objects["people"], uuid.UUID(person["id"]))
    assert stored["city"] == "Riyadh"
    assert stored["phone"] is None


async def test_a_form_post_without_the_csrf_token_is_refused(
    client: AsyncClient, world: World, settings: Settings
) -> None:
    await sign_in(client, "alice@example.com")

    answer = await client.post("/t/acme/o/companies", data={"name": "Sneaky"})

    assert answer.status_code == 403
    assert await _count(settings, world.acme, "companies") == 0


async def test_another_tenant_cannot_create_edit_or_delete(
    client: AsyncClient, world: World, settings: Settings
) -> None:
    async with crm(settings, world.acme) as (connection, catalogue):
        company = await records.create_record(connection, catalogue.objects["companies"], {"name": "Acme Co"}, SYSTEM)
    await sign_in(client, "charlie@example.com")
    url = f"/t/acme/o/companies/{company['id']}"

    assert (await client.post("/t/acme/o/companies", data={"name": "X"}, headers=_htmx(client))).status_code == 404
    assert (await client.post(url, data={"name": "Taken"}, headers=_htmx(client))).status_code == 404
    assert (await client.post(f"{url}/delete", headers=_htmx(client))).status_code == 404
    assert (await client.post(f"/t/noor/o/companies/{company['id']}/delete", headers=_htmx(client))).status_code == 404
    async with crm(settings, world.acme) as (connection, catalogue):
        stored = await records.get_record(connection, catalogue.objects["companies"], uuid.UUID(company["id"]))
    assert stored["name"] == "Acme Co"
    assert await _count(settings, world.acme, "companies") == 1


async def test_a_record_is_deleted_and_the_list_comes_next(
    client: AsyncClient, world: World, settings: Settings
) -> None:
    async with crm(settings, world.acme) as (connection, catalogue):
        company = await records.create_record(connection, catalogue.objects["companies"], {"name": "Gone Co"}, SYSTEM)
    await sign_in(client, "bob@example.com")  # a member may change records

    answer = await client.post(f"/t/acme/o/companies/{company['id']}/delete", headers=_htmx(client))

    assert answer.status_code == 200
    assert _location(answer) == "/t/acme/o/companies"
    assert "Gone Co was deleted." in answer.headers["HX-Trigger"]
    async with crm(settings, world.acme) as (connection, catalogue):
        try:
            await records.get_record(connection, catalogue.objects["companies"], uuid.UUID(company["id"]))
        except RecordNotFound:
            pass
        else:
            raise AssertionError("the company is still there")
    assert (await client.get(f"/t/acme/o/companies/{company['id']}")).status_code == 404


async def test_a_custom_object_gets_its_form_and_page_without_new_code(
    client: AsyncClient, world: World, settings: Settings
) -> None:
    async with crm(settings, world.acme) as (connection, catalogue):
        await schema_changes.create_object(
            connection,
            world.acme,
            schema_changes.NewObject("shipments", "shipment", "Shipment", "شحنة", "Shipments", "الشحنات"),
        )
        await schema_changes.add_field(
            connection,
            world.acme,
            "shipments",
            FieldDefinition("receiver", "relation", "Receiver", "المستلم", settings={"target": "people"}),
        )
        person = await records.create_record(connection, catalogue.objects["people"], {"first_name": "Reem"}, SYSTEM)
    await sign_in(client, "alice@example.com")

    form = await client.get("/t/acme/o/shipments/new")
    created = await client.post(
        "/t/acme/o/shipments",
        data={"_fields": ["name", "receiver"], "name": "Box 7", "receiver": person["id"]},
        headers=_htmx(client),
    )

    assert form.status_code == 200
    assert "New Shipment" in form.text
    assert created.status_code == 200, created.text
    page = await client.get(_location(created))
    assert '<h1 dir="auto">Box 7</h1>' in page.text
    assert "Reem" in page.text
    customer = await client.get(f"/t/acme/o/people/{person['id']}")
    assert "Shipments" in customer.text  # related: the shipment points at her
    assert "Box 7" in customer.text


async def test_a_task_is_assigned_to_a_member(client: AsyncClient, world: World, settings: Settings) -> None:
    await sign_in(client, "alice@example.com")
    form = await client.get("/t/acme/o/tasks/new")
    bob = next(
        value
        for value, title in re.findall(r'<option value="([0-9a-f-]{36})">([^<]+)</option>', form.text)
        if title == "bob@example.com"
    )

    created = await client.post(
        "/t/acme/o/tasks",
        data={"_fields": ["title", "assignee"], "title": "Pack orders", "assignee": bob},
        headers=_htmx(client),
    )

    assert created.status_code == 200, created.text
    async with crm(settings, world.acme) as (connection, catalogue):
        task = await records.get_record(
            connection, catalogue.objects["tasks"], uuid.UUID(_location(created).rsplit("/", 1)[1])
        )
    assert task["assignee"] == bob
    page = await client.get(_location(created))
    assert "bob@example.com" in page.text.split('id="record-fields-heading"')[1].split("</dl>")[0]
