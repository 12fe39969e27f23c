"""Per-field inline editing (record page and table cells): show, edit and save answer the INNER HTML of a
``[data-field-slot]``; a save stores just that field, a bad value comes back as the form with the reason and the
typed value (422) and changes nothing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from httpx import AsyncClient

from app.crm import records, schema_changes
from app.crm.fields import FieldDefinition
from app.crm.metadata import Catalogue
from app.crm.records import Actor
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


async def _deal(settings: Settings, world: World) -> tuple[dict[str, Any], dict[str, Any]]:
    async with crm(settings, world.acme) as (connection, catalogue):
        person = await records.create_record(
            connection, catalogue.objects["people"], {"first_name": "Huda", "last_name": "Saleh"}, SYSTEM
        )
        deal = await records.create_record(
            connection, catalogue.objects["opportunities"], {"name": "Ramadan boxes", "stage": "new"}, SYSTEM
        )
    return person, deal


async def _stored(settings: Settings, world: World, object_name: str, record_id: str) -> dict[str, Any]:
    async with crm(settings, world.acme) as (connection, catalogue):
        return await records.get_record(connection, catalogue.objects[object_name], uuid.UUID(record_id))


async def test_show_and_edit_answer_the_inside_of_a_slot(client: AsyncClient, world: World, settings: Settings) -> None:
    _person, deal = await _deal(settings, world)
    await sign_in(client, "alice@example.com")
    url = f"/t/acme/o/opportunities/{deal['id']}/fields/name"

    shown = await client.get(url, headers={"HX-Request": "true"})
    edit = await client.get(f"{url}/edit", headers={"HX-Request": "true"})

    assert shown.status_code == 200
    assert shown.text.lstrip().startswith('<span class="field-value"')
    assert "Ramadan boxes" in shown.text
    assert "<html" not in shown.text
    assert edit.status_code == 200
    assert edit.text.lstrip().startswith("<form")
    assert f'hx-post="{url}"' in edit.text
    assert 'hx-target="closest [data-field-slot]"' in edit.text
    assert 'hx-swap="innerHTML"' in edit.text
    assert 'value="Ramadan boxes"' in edit.text
    assert "autofocus" in edit.text
    assert f'hx-get="{url}"' in edit.text  # Cancel shows the value again


async def test_a_text_field_is_saved(client: AsyncClient, world: World, settings: Settings) -> None:
    _person, deal = await _deal(settings, world)
    await sign_in(client, "alice@example.com")

    saved = await client.post(
        f"/t/acme/o/opportunities/{deal['id']}/fields/name",
        data={"_fields": "name", "name": "Ramadan boxes (big)"},
        headers=_htmx(client),
    )

    assert saved.status_code == 200
    assert "Ramadan boxes (big)" in saved.text
    assert "<form" not in saved.text
    assert "wosool:toast" in saved.headers["HX-Trigger"]
    assert "wosool:record-changed" in saved.headers["HX-Trigger"]
    assert (await _stored(settings, world, "opportunities", deal["id"]))["name"] == "Ramadan boxes (big)"


async def test_money_a_stage_a_date_and_a_contact_are_saved(
    client: AsyncClient, world: World, settings: Settings
) -> None:
    person, deal = await _deal(settings, world)
    await sign_in(client, "alice@example.com")
    base = f"/t/acme/o/opportunities/{deal['id']}/fields"

    amount = await client.post(
        f"{base}/amount", data={"amount.amount": "99.5", "amount.currency": "USD"}, headers=_htmx(client)
    )
    stage = await client.post(f"{base}/stage", data={"stage": "meeting"}, headers=_htmx(client))
    close = await client.post(f"{base}/close_date", data={"close_date": "2026-02-01"}, headers=_htmx(client))
    contact_form = await client.get(f"{base}/point_of_contact/edit", headers=_htmx(client))
    contact = await client.post(
        f"{base}/point_of_contact", data={"point_of_contact": person["id"]}, headers=_htmx(client)
    )

    assert [r.status_code for r in (amount, stage, close, contact)] == [200, 200, 200, 200], amount.text[:3000]
    assert "$99.50" in amount.text
    assert "Meeting" in stage.text
    assert "chip" in stage.text
    assert "Feb 1, 2026" in close.text
    assert f'<option value="{person["id"]}">Huda Saleh</option>' in contact_form.text
    assert "Huda Saleh" in contact.text
    stored = await _stored(settings, world, "opportunities", deal["id"])
    assert stored["amount"] == {"amount": "99.50", "amount_minor": 9950, "currency": "USD"}
    assert stored["stage"] == "meeting"
    assert stored["close_date"] == "2026-02-01"
    assert stored["point_of_contact"] == person["id"]

    cleared = await client.post(f"{base}/point_of_contact", data={"point_of_contact": ""}, headers=_htmx(client))
    assert cleared.status_code == 200
    assert (await _stored(settings, world, "opportunities", deal["id"]))["point_of_contact"] is None


async def test_a_checkbox_says_yes_and_no(client: AsyncClient, world: World, settings: Settings) -> None:
    person, _deal_record = await _deal(settings, world)
    async with crm(settings, world.acme) as (connection, _catalogue):
        await schema_changes.add_field(
            connection, world.acme, "people", FieldDefinition("vip", "boolean", "VIP", "مميز")
        )
    await sign_in(client, "alice@example.com")
    url = f"/t/acme/o/people/{person['id']}/fields/vip"

    ticked = await client.post(url, data={"_fields": "vip", "vip": "true"}, headers=_htmx(client))
    assert ticked.status_code == 200
    assert "Yes" in ticked.text
    assert (await _stored(settings, world, "people", person["id"]))["vip"] is True

    unticked = await client.post(url, data={"_fields": "vip"}, headers=_htmx(client))
    assert unticked.status_code == 200
    assert "No" in unticked.text
    assert (await _stored(settings, world, "people", person["id"]))["vip"] is False


async def test_bad_values_come_back_with_the_reason_and_change_nothing(
    client: AsyncClient, world: World, settings: Settings
) -> None:
    person, deal = await _deal(settings, world)
    await sign_in(client, "alice@example.com")
    deal_fields = f"/t/acme/o/opportunities/{deal['id']}/fields"

    phone = await client.post(
        f"/t/acme/o/people/{person['id']}/fields/phone",
        data={"phone.primary": "05x not a phone", "phone.additional": ""},
        headers=_htmx(client),
    )
    date = await client.post(f"{deal_fields}/close_date", data={"close_date": "31/01/2026"}, headers=_htmx(client))
    stage = await client.post(f"{deal_fields}/stage", data={"stage": "bogus"}, headers=_htmx(client))
    name = await client.post(f"{deal_fields}/name", data={"name": "   "}, headers=_htmx(client))
    money = await client.post(
        f"{deal_fields}/amount", data={"amount.amount": "12.345", "amount.currency": "SAR"}, headers=_htmx(client)
    )
    contact = await client.post(
        f"{deal_fields}/point_of_contact", data={"point_of_contact": str(uuid.uuid4())}, headers=_htmx(client)
    )

    assert phone.status_code == 422
    assert "This is not a valid phone number." in phone.text
    assert 'value="05x not a phone"' in phone.text
    assert 'aria-invalid="true"' in phone.text
    assert "<form" in phone.text
    assert date.status_code == 422
    assert "Enter a date such as 2025-01-31." in date.text
    assert 'value="31/01/2026"' in date.text
    assert stage.status_code == 422
    assert "Choose from the list." in stage.text
    assert '<option value="bogus" selected>' in stage.text
    assert name.status_code == 422
    assert "This field is required." in name.text
    assert money.status_code == 422
    assert "Use at most 2 decimal places." in money.text
    assert 'value="12.345"' in money.text
    assert contact.status_code == 422
    assert "Choose a record from the list." in contact.text
    assert (await _stored(settings, world, "people", person["id"]))["phone"] is None
    stored = await _stored(settings, world, "opportunities", deal["id"])
    assert (stored["close_date"], stored["stage"], stored["name"], stored["amount"]) == (
        None,
        "new",
        "Ramadan boxes",
        None,
    )
    assert stored["point_of_contact"] is None


async def test_every_field_type_has_an_inline_editor(client: AsyncClient, world: World, settings: Settings) -> None:
    person, _deal_record = await _deal(settings, world)
    async with crm(settings, world.acme) as (connection, _catalogue):
        for field in (
            FieldDefinition("stars", "rating", "Stars", "التقييم"),
            FieldDefinition("born", "date", "Born", "الميلاد"),
            FieldDefinition("seen", "datetime", "Seen", "آخر ظهور"),
            FieldDefinition("home", "address", "Home", "المنزل"),
            FieldDefinition("alias", "full_name", "Alias", "الاسم المستعار"),
            FieldDefinition("bio", "rich_text", "Bio", "نبذة"),
            FieldDefinition("extra", "json", "Extra", "إضافي"),
            FieldDefinition("site", "links", "Site", "الموقع"),
            FieldDefinition("spent", "number", "Spent", "المصروف"),
        ):
            await schema_changes.add_field(connection, world.acme, "people", field)
        catalogue = await catalogue_of(connection, world.acme)
    await sign_in(client, "alice@example.com")

    for field in catalogue.objects["people"].fields:
        edit = await client.get(f"/t/acme/o/people/{person['id']}/fields/{field.name}/edit", headers=_htmx(client))
        assert edit.status_code == 200, field.name
        assert f'name="_fields" value="{field.name}"' in edit.text, field.name
        assert "autofocus" in edit.text, field.name

    saved = await client.post(
        f"/t/acme/o/people/{person['id']}/fields/seen", data={"seen": "2026-05-01T18:00"}, headers=_htmx(client)
    )
    assert saved.status_code == 200
    assert (await _stored(settings, world, "people", person["id"]))["seen"] == "2026-05-01T15:00:00Z"
    again = await client.get(f"/t/acme/o/people/{person['id']}/fields/seen/edit", headers=_htmx(client))
    assert 'value="2026-05-01T18:00"' in again.text


async def test_a_relation_input_finds_records_as_you_type(
    client: AsyncClient, world: World, settings: Settings
) -> None:
    person, _deal_record = await _deal(settings, world)
    async with crm(settings, world.acme) as (connection, catalogue):
        other = await records.create_record(connection, catalogue.objects["people"], {"first_name": "Majed"}, SYSTEM)
    await sign_in(client, "alice@example.com")

    found = await client.get(
        "/t/acme/o/opportunities/fields/point_of_contact/options",
        params={"q": "maj", "point_of_contact": person["id"]},
        headers=_htmx(client),
    )

    assert found.status_code == 200
    assert f'<option value="{other["id"]}" selected>Majed</option>' in found.text
    assert f'<option value="{person["id"]}">Huda Saleh</option>' in found.text  # the current choice stays
    not_relation = await client.get("/t/acme/o/opportunities/fields/name/options", params={"q": "x"})
    assert not_relation.status_code == 404


async def test_inline_saves_need_the_token_and_the_tenant(
    client: AsyncClient, world: World, settings: Settings
) -> None:
    _person, deal = await _deal(settings, world)
    url = f"/t/acme/o/opportunities/{deal['id']}/fields/name"
    await sign_in(client, "alice@example.com")

    no_token = await client.post(url, data={"name": "Hijacked"}, headers={"HX-Request": "true"})
    client.cookies.clear()
    await sign_in(client, "charlie@example.com")
    other_tenant = await client.post(url, data={"name": "Hijacked"}, headers=_htmx(client))
    other_edit = await client.get(f"{url}/edit", headers=_htmx(client))

    assert no_token.status_code == 403
    assert other_tenant.status_code == 404
    assert other_edit.status_code == 404
    assert (await _stored(settings, world, "opportunities", deal["id"]))["name"] == "Ramadan boxes"


async def test_a_saved_value_is_escaped(client: AsyncClient, world: World, settings: Settings) -> None:
    _person, deal = await _deal(settings, world)
    await sign_in(client, "alice@example.com")

    saved = await client.post(
        f"/t/acme/o/opportunities/{deal['id']}/fields/name",
        data={"name": "<img src=x onerror=alert(1)>"},
        headers=_htmx(client),
    )

    assert saved.status_code == 200
    assert "<img" not in saved.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in saved.text
