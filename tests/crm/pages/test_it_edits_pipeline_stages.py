"""Settings: pipeline stages (the deals' ``stage`` options) and the options of any select field. Owners add,
rename in both languages, recolour, reorder (arrows or a dragged order) and remove them; a stage records use is
removed only by moving those records to another stage in the same change."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from httpx import AsyncClient
from playwright.async_api import Page

from app.crm import records, schema_changes
from app.crm.records import Actor
from app.crm.services import catalogue_of, crm_connection
from app.settings import Settings
from app.tenancy import runtime
from app.tenancy.repository import TenantRecord
from tests.browser import sign_in_browser, use_language
from tests.conftest import World
from tests.people import sign_in

STAGES = "/t/acme/settings/pipeline"
STAGE = "/t/acme/settings/pipeline/opportunities/stage"
SEEDED = ["new", "screening", "meeting", "proposal", "customer", "lost"]


def _token(client: AsyncClient) -> dict[str, str]:
    return {"x-csrftoken": client.cookies["csrftoken"]}


async def _options(
    settings: Settings, tenant: TenantRecord, object_name: str = "opportunities", field: str = "stage"
) -> list[dict[str, Any]]:
    async with crm_connection(tenant, settings) as connection:
        described = await schema_changes.describe_object(connection, object_name)
    options: list[dict[str, Any]] = next(f for f in described["fields"] if f["name"] == field)["options"]
    return options


async def _values(settings: Settings, tenant: TenantRecord) -> list[str]:
    return [option["value"] for option in await _options(settings, tenant)]


async def _deals(settings: Settings, tenant: TenantRecord, stages: list[str]) -> list[dict[str, Any]]:
    async with crm_connection(tenant, settings) as connection:
        catalogue = await catalogue_of(connection, tenant)
        return [
            await records.create_record(
                connection, catalogue.objects["opportunities"], {"name": f"Deal {n}", "stage": stage}, Actor("system")
            )
            for n, stage in enumerate(stages)
        ]


async def test_the_stages_are_listed_in_order_with_how_many_deals_use_each(
    client: AsyncClient, world: World, settings: Settings
) -> None:
    await _deals(settings, world.acme, ["proposal", "proposal", "lost"])
    await sign_in(client, "alice@example.com")

    page = await client.get(STAGES)

    assert page.status_code == 200
    order = [page.text.index(f'id="stage-{value}"') for value in SEEDED]
    assert order == sorted(order)
    proposal = page.text.split('id="stage-proposal"')[1].split("</li>")[0]
    assert "2 records" in proposal
    assert "0 records" in page.text.split('id="stage-new"')[1].split("</li>")[0]
    assert "chip-orange" in proposal
    # Other select fields are one click away.
    assert f"{STAGES}?object=tasks&amp;field=status" in page.text


async def test_an_owner_adds_renames_and_recolours_a_stage(
    client: AsyncClient, world: World, settings: Settings
) -> None:
    await sign_in(client, "alice@example.com")
    token = _token(client)

    added = await client.post(
        f"{STAGE}/options", data={"label_en": "Negotiation", "label_ar": "تفاوض", "color": "pink"}, headers=token
    )
    renamed = await client.post(
        f"{STAGE}/options/meeting",
        data={"label_en": "Demo <booked>", "label_ar": "عرض توضيحي", "color": "turquoise"},
        headers={**token, "hx-request": "true"},
    )

    assert added.status_code == 303
    assert added.headers["location"] == STAGES
    assert renamed.status_code == 200
    assert renamed.headers["hx-push-url"] == STAGES
    assert "Demo &lt;booked&gt;" in renamed.text  # escaped
    options = {option["value"]: option for option in await _options(settings, world.acme)}
    assert list(options) == [*SEEDED, "negotiation"]
    assert (options["negotiation"]["label_ar"], options["negotiation"]["color"]) == ("تفاوض", "pink")
    assert (options["meeting"]["label_en"], options["meeting"]["label_ar"], options["meeting"]["color"]) == (
        "Demo <booked>",
        "عرض توضيحي",
        "turquoise",
    )


async def test_renaming_keeps_every_deal_in_its_stage(client: AsyncClient, world: World, settings: Settings) -> None:
    [deal] = await _deals(settings, world.acme, ["meeting"])
    await sign_in(client, "alice@example.com")

    await client.post(
        f"{STAGE}/options/meeting", data={"label_en": "Demo", "label_ar": "عرض", "color": "sky"}, headers=_token(client)
    )

    async with crm_connection(world.acme, settings) as connection:
        catalogue = await catalogue_of(connection, world.acme)
        stored = await records.get_record(connection, catalogue.objects["opportunities"], uuid.UUID(deal["id"]))
    assert stored["stage"] == "meeting"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"label_en": "", "label_ar": "تفاوض"}, "in English and in Arabic"),
        ({"label_en": "Negotiation", "label_ar": "تفاوض", "color": "black"}, "Choose a colour"),
        ({"label_en": "N" * 101, "label_ar": "تفاوض"}, "at most 100"),
    ],
)
async def test_a_bad_stage_is_422_and_changes_nothing(
    client: AsyncClient, world: World, settings: Settings, data: dict[str, str], reason: str
) -> None:
    await sign_in(client, "alice@example.com")

    added = await client.post(f"{STAGE}/options", data=data, headers=_token(client))
    renamed = await client.post(f"{STAGE}/options/new", data=data, headers=_token(client))

    assert (added.status_code, renamed.status_code) == (422, 422)
    assert reason in added.text
    assert 'value="تفاوض"' in added.text  # what was typed stays
    assert 'id="error-new"' in renamed.text  # the reason is shown on its stage
    options = await _options(settings, world.acme)
    assert [option["value"] for option in options] == SEEDED
    assert options[0]["label_en"] == "New"


async def test_an_owner_reorders_stages_with_the_arrows_or_a_whole_order(
    client: AsyncClient, world: World, settings: Settings
) -> None:
    await sign_in(client, "alice@example.com")
    token = _token(client)

    await client.post(f"{STAGE}/options/lost/move", data={"direction": "up"}, headers=token)
    await client.post(f"{STAGE}/options/new/move", data={"direction": "up"}, headers=token)  # already first: stays
    after_arrows = await _values(settings, world.acme)
    dragged = await client.post(
        f"{STAGE}/order", data={"order": ["lost", "new", "screening", "meeting", "proposal", "customer"]}, headers=token
    )
    incomplete = await client.post(f"{STAGE}/order", data={"order": ["lost", "new"]}, headers=token)
    sideways = await client.post(f"{STAGE}/options/new/move", data={"direction": "sideways"}, headers=token)

    assert after_arrows == ["new", "screening", "meeting", "proposal", "lost", "customer"]
    assert dragged.status_code == 303
    assert incomplete.status_code == 422
    assert sideways.status_code == 422
    assert await _values(settings, world.acme) == ["lost", "new", "screening", "meeting", "proposal", "customer"]


async def test_a_stage_nobody_uses_is_removed(client: AsyncClient, world: World, settings: Settings) -> None:
    await sign_in(client, "alice@example.com")

    removed = await client.post(f"{STAGE}/options/screening/remove", headers=_token(client))

    assert removed.status_code == 303
    assert await _values(settings, world.acme) == ["new", "meeting", "proposal", "customer", "lost"]


async def test_a_stage_in_use_is_removed_only_by_moving_its_deals(
    client: AsyncClient, world: World, settings: Settings
) -> None:
    deals = await _deals(settings, world.acme, ["lost", "lost", "new"])
    await sign_in(client, "alice@example.com")
    token = _token(client)

    refused = await client.post(f"{STAGE}/options/lost/remove", headers=token)
    to_itself = await client.post(f"{STAGE}/options/lost/remove", data={"move_to": "lost"}, headers=token)
    assert await _values(settings, world.acme) == SEEDED
    page = await client.get(STAGES)
    moved = await client.post(f"{STAGE}/options/lost/remove", data={"move_to": "customer"}, headers=token)

    assert refused.status_code == 422
    assert "2 records use this stage" in refused.text
    assert to_itself.status_code == 422
    assert "Move them to:" in page.text.split('id="stage-lost"')[1].split("</li>")[0]  # the page offers the move
    assert moved.status_code == 303
    assert await _values(settings, world.acme) == ["new", "screening", "meeting", "proposal", "customer"]
    async with crm_connection(world.acme, settings) as connection:
        catalogue = await catalogue_of(connection, world.acme)
        deal_object = catalogue.objects["opportunities"]
        stages = [(await records.get_record(connection, deal_object, uuid.UUID(deal["id"])))["stage"] for deal in deals]
        history = await records.timeline(connection, deal_object, uuid.UUID(deals[0]["id"]))
    assert stages == ["customer", "customer", "new"]
    moved_event = next(event for event in history if event["kind"] == "updated")
    assert moved_event["changes"] == {"stage": ["lost", "customer"]}
    assert moved_event["actor"]["name"] == "alice@example.com"


async def test_the_options_of_any_select_field_are_edited_the_same_way(
    client: AsyncClient, world: World, settings: Settings
) -> None:
    await sign_in(client, "alice@example.com")

    page = await client.get(f"{STAGES}?object=tasks&field=status")
    added = await client.post(
        "/t/acme/settings/pipeline/tasks/status/options",
        data={"label_en": "Waiting", "label_ar": "بانتظار الرد", "color": "yellow"},
        headers=_token(client),
    )
    not_select = await client.get(f"{STAGES}?object=people&field=city")
    unknown = await client.get(f"{STAGES}?object=nothing&field=stage")

    assert page.status_code == 200
    assert "Options of Status (Tasks)" in page.text
    assert added.status_code == 303
    assert added.headers["location"] == f"{STAGES}?object=tasks&field=status"
    values = [o["value"] for o in await _options(settings, world.acme, "tasks", "status")]
    assert values == ["todo", "in_progress", "done", "waiting"]
    assert (not_select.status_code, unknown.status_code) == (404, 404)


@pytest.mark.browser
async def test_an_owner_renames_a_stage_in_arabic(
    page: Page, live_server: str, world: World, settings: Settings
) -> None:
    await runtime.open_pools(settings)  # the app runs in another process; this one reads the tenant's database
    await sign_in_browser(page, live_server, "alice@example.com")
    await use_language(page, live_server, "ar")
    await page.goto(live_server + STAGES)
    assert await page.locator("html").get_attribute("dir") == "rtl"
    assert await page.locator("h1").inner_text() == "مراحل الصفقات"

    stage = page.locator("#stage-proposal")
    await stage.get_by_label("الاسم (بالعربية)").fill("عرض السعر المرسل")
    await stage.get_by_label("اللون").select_option("purple")
    assert await stage.locator(".stage-head .chip").get_attribute("class") == "chip chip-purple"  # previewed
    await stage.get_by_role("button", name="حفظ").click()

    await page.locator(".toast").filter(has_text="حُفظت المرحلة.").wait_for()
    await page.locator("#stage-proposal .stage-head .chip", has_text="عرض السعر المرسل").wait_for()
    proposal = next(o for o in await _options(settings, world.acme) if o["value"] == "proposal")
    assert (proposal["label_ar"], proposal["label_en"], proposal["color"]) == ("عرض السعر المرسل", "Proposal", "purple")

    # The keyboard way to reorder: the arrow keeps the focus after the page is swapped.
    await page.locator("#up-proposal").focus()
    await page.keyboard.press("Enter")
    await page.locator("#stage-proposal + #stage-meeting").wait_for()
    assert await page.evaluate("document.activeElement && document.activeElement.id") == "up-proposal"
    assert await _values(settings, world.acme) == ["new", "screening", "proposal", "meeting", "customer", "lost"]
