"""Settings: objects and fields. Owners add custom fields of any type (labels in both languages, options, required,
unique), relabel fields, delete custom ones after confirming, and create custom objects; every refusal comes back
as a 422 with its reason and what was typed, and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import AsyncClient
from playwright.async_api import Page

from app.accounts import api_keys
from app.crm import records, schema_changes
from app.crm.records import Actor
from app.crm.services import catalogue_of, crm_connection
from app.settings import Settings
from app.tenancy.repository import TenantRecord
from tests.browser import sign_in_browser
from tests.conftest import World
from tests.people import sign_in

PEOPLE = "/t/acme/settings/objects/people"


def _token(client: AsyncClient) -> dict[str, str]:
    return {"x-csrftoken": client.cookies["csrftoken"]}


async def _fields(settings: Settings, tenant: TenantRecord, object_name: str) -> dict[str, dict[str, Any]]:
    """The object's fields as the engine describes them now (read from the tenant's database)."""
    async with crm_connection(tenant, settings) as connection:
        described = await schema_changes.describe_object(connection, object_name)
    return {field["name"]: field for field in described["fields"]}


async def test_an_owner_adds_a_select_field_with_options_in_both_languages(
    client: AsyncClient, world: World, settings: Settings
) -> None:
    await sign_in(client, "alice@example.com")

    added = await client.post(
        f"{PEOPLE}/fields",
        data={
            "label_en": "Loyalty tier",
            "label_ar": "فئة الولاء",
            "type": "select",
            "options": "Gold | ذهبي | yellow\nSilver | فضي\n\nTop  tier | الأعلى",
            "required": "",
        },
        headers=_token(client),
    )
    page = await client.get(PEOPLE)

    assert added.status_code == 303
    assert added.headers["location"] == PEOPLE
    field = (await _fields(settings, world.acme, "people"))["loyalty_tier"]  # the name made from the English
    assert (field["type"], field["label_en"], field["label_ar"], field["is_custom"]) == (
        "select",
        "Loyalty tier",
        "فئة الولاء",
        True,
    )
    assert [(o["value"], o["label_en"], o["label_ar"]) for o in field["options"]] == [
        ("gold", "Gold", "ذهبي"),
        ("silver", "Silver", "فضي"),
        ("top_tier", "Top  tier", "الأعلى"),
    ]
    assert field["options"][0]["color"] == "yellow"
    assert 'id="field-loyalty_tier"' in page.text
    assert "Choice from a list" in page.text.split('id="field-loyalty_tier"')[1].split("</tr>")[0]


async def test_fields_of_other_types_keep_their_rules(client: AsyncClient, world: World, settings: Settings) -> None:
    await sign_in(client, "alice@example.com")
    token = _token(client)

    code = await client.post(
        f"{PEOPLE}/fields",
        data={
            "label_en": "Member code",
            "label_ar": "رمز العضوية",
            "type": "text",
            "name": "member_code",
            "unique": "on",
        },
        headers=token,
    )
    referrer = await client.post(
        f"{PEOPLE}/fields",
        data={"label_en": "Referred by", "label_ar": "أحاله", "type": "relation", "target": "people"},
        headers=token,
    )
    birthday = await client.post(
        f"{PEOPLE}/fields", data={"label_en": "Birthday", "label_ar": "تاريخ الميلاد", "type": "date"}, headers=token
    )

    assert (code.status_code, referrer.status_code, birthday.status_code) == (303, 303, 303)
    fields = await _fields(settings, world.acme, "people")
    assert fields["member_code"]["unique"] is True
    assert fields["referred_by"]["settings"]["target"] == "people"
    assert fields["birthday"]["type"] == "date"


@pytest.mark.parametrize(
    ("form", "field", "reason"),
    [
        ({"name": "Loyalty Tier!"}, "name", "lower-case English letters"),
        ({"name": "city"}, "name", "already has a field named city"),
        ({"name": "created_at"}, "form", "is reserved"),  # the engine's own reason
        ({"label_ar": ""}, "label_ar", "Write a name."),
        ({"type": "spreadsheet"}, "type", "Choose a type from the list."),
        ({"type": "select", "options": "Gold"}, "options", "Line 1: write the English name"),
        ({"type": "relation", "target": "nothing"}, "target", "Choose which object"),
        ({"type": "boolean", "unique": "on"}, "unique", "cannot be unique"),
    ],
)
async def test_a_bad_field_is_422_with_its_reason_and_nothing_is_created(
    client: AsyncClient, world: World, settings: Settings, form: dict[str, str], field: str, reason: str
) -> None:
    await sign_in(client, "alice@example.com")
    before = await _fields(settings, world.acme, "people")
    typed = {"label_en": "Loyalty <tier>", "label_ar": "فئة الولاء", "type": "text", "name": "loyalty", **form}

    response = await client.post(f"{PEOPLE}/fields", data=typed, headers=_token(client))

    assert response.status_code == 422
    assert reason in response.text
    if field != "form":
        assert f'id="{field}-error"' in response.text  # shown next to its input
    assert 'value="Loyalty &lt;tier&gt;"' in response.text  # what was typed stays, escaped
    assert await _fields(settings, world.acme, "people") == before


async def test_a_required_field_on_an_object_with_records_is_refused_by_the_engine(
    client: AsyncClient, world: World, settings: Settings
) -> None:
    async with crm_connection(world.acme, settings) as connection:
        catalogue = await catalogue_of(connection, world.acme)
        await records.create_record(connection, catalogue.objects["people"], {"first_name": "Sara"}, Actor("system"))
    await sign_in(client, "alice@example.com")

    response = await client.post(
        f"{PEOPLE}/fields",
        data={"label_en": "Tier", "label_ar": "الفئة", "type": "text", "required": "on"},
        headers={**_token(client), "hx-request": "true"},
    )

    assert response.status_code == 422
    assert "already has records" in response.text
    assert "tier" not in await _fields(settings, world.acme, "people")


async def test_an_owner_relabels_a_standard_field_and_a_custom_one(
    client: AsyncClient, world: World, settings: Settings
) -> None:
    await sign_in(client, "alice@example.com")
    token = _token(client)
    await client.post(f"{PEOPLE}/fields", data={"label_en": "Tier", "label_ar": "الفئة", "type": "text"}, headers=token)

    city = await client.post(
        f"{PEOPLE}/fields/city/edit", data={"label_en": "Town", "label_ar": "البلدة"}, headers=token
    )
    tier = await client.post(
        f"{PEOPLE}/fields/tier/edit",
        data={"label_en": "Customer tier", "label_ar": "فئة العميل", "required": "on"},
        headers={**token, "hx-request": "true"},
    )
    blank = await client.post(f"{PEOPLE}/fields/city/edit", data={"label_en": "", "label_ar": "مدينة"}, headers=token)
    missing = await client.post(f"{PEOPLE}/fields/nothing/edit", data={"label_en": "A", "label_ar": "ب"}, headers=token)

    assert city.status_code == 303
    assert tier.status_code == 200
    assert tier.headers["hx-push-url"] == PEOPLE
    assert "The field Customer tier was saved." in tier.headers["hx-trigger-after-settle"]
    assert blank.status_code == 422
    assert 'value="مدينة"' in blank.text
    assert missing.status_code == 404
    fields = await _fields(settings, world.acme, "people")
    assert (fields["city"]["label_en"], fields["city"]["label_ar"]) == ("Town", "البلدة")
    assert (fields["tier"]["label_en"], fields["tier"]["label_ar"], fields["tier"]["required"]) == (
        "Customer tier",
        "فئة العميل",
        True,
    )


async def test_a_custom_field_is_deleted_and_a_standard_one_cannot_be(
    client: AsyncClient, world: World, settings: Settings
) -> None:
    await sign_in(client, "alice@example.com")
    token = _token(client)
    await client.post(f"{PEOPLE}/fields", data={"label_en": "Tier", "label_ar": "الفئة", "type": "text"}, headers=token)
    page = await client.get(PEOPLE)

    standard = await client.post(f"{PEOPLE}/fields/city/remove", headers=token)
    custom = await client.post(f"{PEOPLE}/fields/tier/remove", headers=token)

    # Only custom fields offer a delete button (behind a confirmation).
    assert f'action="{PEOPLE}/fields/tier/remove"' in page.text
    assert f'action="{PEOPLE}/fields/city/remove"' not in page.text
    assert standard.status_code == 422
    assert "standard field" in standard.text
    assert custom.status_code == 303
    fields = await _fields(settings, world.acme, "people")
    assert "city" in fields
    assert "tier" not in fields


async def test_an_owner_creates_a_custom_object_and_mistakes_change_nothing(
    client: AsyncClient, world: World, settings: Settings
) -> None:
    await sign_in(client, "alice@example.com")
    token = _token(client)
    labels = {
        "label_singular_en": "Ticket",
        "label_singular_ar": "تذكرة",
        "label_plural_en": "Support tickets",
        "label_plural_ar": "تذاكر الدعم",
    }

    reserved = await client.post("/t/acme/settings/objects", data={**labels, "name": "people"}, headers=token)
    created = await client.post("/t/acme/settings/objects", data=labels, headers=token)
    listed = await client.get("/t/acme/settings/objects")

    assert reserved.status_code == 422
    assert "already taken" in reserved.text
    assert 'value="Support tickets"' in reserved.text
    assert created.status_code == 303
    assert created.headers["location"] == "/t/acme/settings/objects/support_tickets"
    async with crm_connection(world.acme, settings) as connection:
        objects = {obj["name"]: obj for obj in await schema_changes.describe_objects(connection)}
    assert set(objects) - {"people", "companies", "opportunities", "tasks", "notes", "products", "orders"} == {
        "order_items",
        "support_tickets",
    }
    assert (objects["support_tickets"]["singular"], objects["support_tickets"]["label_plural_ar"]) == (
        "ticket",
        "تذاكر الدعم",
    )
    assert 'href="/t/acme/settings/objects/support_tickets"' in listed.text
    # It is in the sidebar of every page now.
    assert 'href="/t/acme/o/support_tickets"' in listed.text


async def test_removing_a_custom_object_asks_for_its_name(
    client: AsyncClient, world: World, settings: Settings
) -> None:
    await sign_in(client, "alice@example.com")
    token = _token(client)
    labels = {"label_singular_en": "Ticket", "label_singular_ar": "تذكرة"}
    await client.post(
        "/t/acme/settings/objects",
        data={**labels, "label_plural_en": "Tickets", "label_plural_ar": "التذاكر"},
        headers=token,
    )

    tickets = "/t/acme/settings/objects/tickets"
    unconfirmed = await client.post(f"{tickets}/remove", data={"confirm": "ticket"}, headers=token)
    standard = await client.post("/t/acme/settings/objects/people/remove", data={"confirm": "people"}, headers=token)
    assert "tickets" in {obj.name for obj in await _objects(settings, world.acme)}
    confirmed = await client.post(f"{tickets}/remove", data={"confirm": "tickets"}, headers=token)

    assert unconfirmed.status_code == 422
    assert "Type tickets to confirm." in unconfirmed.text
    assert standard.status_code == 422
    assert "standard object" in standard.text
    assert confirmed.status_code == 303
    assert {obj.name for obj in await _objects(settings, world.acme)} >= {"people"}
    assert "tickets" not in {obj.name for obj in await _objects(settings, world.acme)}


async def _objects(settings: Settings, tenant: TenantRecord) -> list[Any]:
    async with crm_connection(tenant, settings) as connection:
        return list((await catalogue_of(connection, tenant)).objects.values())


async def test_the_editor_speaks_arabic(client: AsyncClient, world: World) -> None:
    await sign_in(client, "alice@example.com")
    await client.get("/language/ar?next=/")

    page = await client.get(PEOPLE)

    assert '<html lang="ar" dir="rtl">' in page.text
    assert "<h1>العملاء" in page.text or "العملاء" in page.text.split("<h1>")[1].split("</h1>")[0]
    assert "إضافة حقل" in page.text
    assert "المدينة" in page.text  # the fields' Arabic labels
    assert "اختيار من قائمة" in page.text  # the types' names


@pytest.mark.browser
async def test_an_owner_adds_a_field_in_the_browser_and_the_api_sees_it(
    page: Page, live_server: str, world: World, settings: Settings
) -> None:
    await sign_in_browser(page, live_server, "alice@example.com")
    await page.goto(live_server + PEOPLE)

    form = page.locator("form.settings-new-field")
    await form.get_by_label("Name (English)").fill("Favourite scent")
    await form.get_by_label("Name (Arabic)").fill("العطر المفضل")
    await form.locator("select[name=type]").select_option("select")
    assert await form.get_by_label("Options, one per line").is_visible()  # shown for select fields only
    assert await form.locator("input[name=name]").input_value() == "favourite_scent"  # made from the English
    await form.get_by_label("Options, one per line").fill("Oud | عود | orange\nMusk | مسك")
    await form.get_by_role("button", name="Add field").click()

    row = page.locator("#field-favourite_scent")
    await row.wait_for()
    await page.locator(".toast").filter(has_text="Favourite scent").wait_for()
    assert page.url == live_server + PEOPLE
    assert "Choice from a list" in await row.inner_text()

    # The REST API (what integrations and the other dashboard pages read) has it too.
    _, key = await api_keys.create_api_key(world.acme.id, "acme", name="test", actor="test")
    metadata = await page.request.get(
        live_server + "/api/v1/metadata/objects/people", headers={"Authorization": f"Bearer {key}"}
    )
    scent = next(field for field in (await metadata.json())["fields"] if field["name"] == "favourite_scent")
    assert [option["value"] for option in scent["options"]] == ["oud", "musk"]
    assert scent["label_ar"] == "العطر المفضل"

    # The new-record form offers it, with its options.
    await page.goto(live_server + "/t/acme/o/people/new")
    scent_input = page.locator('select[name="favourite_scent"]')
    await scent_input.wait_for()
    assert await scent_input.locator("option", has_text="Musk").count() == 1
