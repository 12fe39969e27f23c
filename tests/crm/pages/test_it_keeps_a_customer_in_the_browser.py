"""Journeys in Chromium: a customer added through the form, then a note and a task on the record page, the task
completed, a field edited in place; mistakes explained without losing what was typed; the same in Arabic."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from playwright.async_api import Page, expect

from app.crm import links, records
from app.crm.metadata import Catalogue
from app.crm.records import Actor
from app.crm.services import catalogue_of, crm_connection
from app.settings import Settings
from app.tenancy import runtime
from app.tenancy.repository import TenantRecord
from tests.browser import sign_in_browser, use_language
from tests.conftest import World

RECORD_URL = re.compile(r".*/t/acme/o/people/[0-9a-f-]{36}$")


@asynccontextmanager
async def crm(settings: Settings, tenant: TenantRecord) -> AsyncIterator[tuple[Any, Catalogue]]:
    await runtime.open_pools(settings)  # the app runs in another process; the settings fixture closes them
    async with crm_connection(tenant, settings) as connection:
        yield connection, await catalogue_of(connection, tenant)


def _record_id(page: Page) -> uuid.UUID:
    return uuid.UUID(page.url.rsplit("/", 1)[1])


@pytest.mark.browser
async def test_a_customer_is_added_then_gets_a_note_and_a_task(
    page: Page, live_server: str, world: World, settings: Settings
) -> None:
    await sign_in_browser(page, live_server, "alice@example.com")
    await page.goto(f"{live_server}/t/acme/o/people/new")
    await page.fill("#f-first_name", "Sara")
    await page.fill("#f-last_name", "Al-Harbi")
    await page.fill("#f-email-primary", "sara@example.com")
    await page.fill("#f-phone-primary", "0501234567")
    await page.get_by_role("button", name="Create").click()

    await page.wait_for_url(RECORD_URL)
    await expect(page.locator("h1")).to_have_text("Sara Al-Harbi")
    await expect(page.locator(".toast")).to_contain_text("Customer added.")
    person_id = _record_id(page)

    # A note, added in place.
    await page.fill("#new-note-body", "Prefers oud over musk")
    await page.get_by_role("button", name="Add note").click()
    await expect(page.locator(".note-list .note")).to_contain_text("Prefers oud over musk")
    await expect(page.locator("#new-note-body")).to_have_value("")

    # A task, added in place, then completed with its checkbox.
    await page.fill("#new-task-title", "Send samples")
    await page.get_by_role("button", name="Add task").click()
    task = page.locator(".task-list .task", has_text="Send samples")
    await expect(task).to_be_visible()
    await task.get_by_role("checkbox").check()
    await expect(page.locator(".task-list .task.task-done", has_text="Send samples")).to_be_visible()
    await expect(page.locator(".toast", has_text="Task completed.")).to_be_visible()

    # A field, edited in place with the keyboard; the timeline follows.
    await page.get_by_role("button", name="Edit City").click()
    city = page.locator("[data-field='city'] input[name='city']")
    await expect(city).to_be_focused()
    await city.fill("Jeddah")
    await city.press("Enter")
    await expect(page.locator("[data-field='city'] .field-value")).to_have_text("Jeddah")
    await expect(page.get_by_role("button", name="Edit City")).to_be_focused()
    await expect(page.locator("#record-timeline")).to_contain_text("Changed by")

    async with crm(settings, world.acme) as (connection, catalogue):
        stored = await records.get_record(connection, catalogue.objects["people"], person_id)
        related = await links.related_records(connection, catalogue, catalogue.objects["people"], person_id)
    assert stored["phone"]["primary"] == "+966501234567"
    assert stored["city"] == "Jeddah"
    assert [note["body"] for note in related["notes"]] == ["Prefers oud over musk"]
    assert [(t["title"], t["status"]) for t in related["tasks"]] == [("Send samples", "done")]

    # Deleting asks first, then goes back to the list.
    page.once("dialog", lambda dialog: dialog.accept())
    await page.get_by_role("button", name="Delete").click()
    await page.wait_for_url(re.compile(r".*/t/acme/o/people$"))
    await expect(page.locator(".toast", has_text="Sara Al-Harbi was deleted.")).to_be_visible()


@pytest.mark.browser
async def test_a_mistake_is_explained_and_nothing_typed_is_lost(
    page: Page, live_server: str, world: World, settings: Settings
) -> None:
    async with crm(settings, world.acme) as (connection, catalogue):
        person = await records.create_record(
            connection, catalogue.objects["people"], {"first_name": "Huda", "city": "Riyadh"}, Actor(source="system")
        )
    page.problems.allow_status(422)  # type: ignore[attr-defined]
    await sign_in_browser(page, live_server, "alice@example.com")
    await page.goto(f"{live_server}/t/acme/o/people/{person['id']}")

    # In place: the reason next to the field, the text kept; Escape puts the value back.
    await page.get_by_role("button", name="Edit Phone").click()
    phone = page.locator("[data-field='phone'] input[name='phone.primary']")
    await phone.fill("12ab")
    await phone.press("Enter")
    await expect(page.locator("[data-field='phone'] .field-error")).to_have_text("This is not a valid phone number.")
    await expect(phone).to_have_value("12ab")
    await expect(phone).to_have_attribute("aria-invalid", "true")
    await phone.press("Escape")
    await expect(page.locator("[data-field='phone'] .field-value")).to_have_text("Empty")

    # The full form: every field keeps what was typed.
    await page.get_by_role("button", name="Edit all fields").click()
    await page.fill("#f-city", "Dammam")
    await page.fill("#f-email-primary", "huda@@example")
    await page.get_by_role("button", name="Save").click()
    await expect(page.locator("[data-error-summary]")).to_be_focused()
    await expect(page.locator("#f-email-error")).to_have_text("This is not a valid e-mail address.")
    await expect(page.locator("#f-city")).to_have_value("Dammam")
    await expect(page.locator("#f-email-primary")).to_have_value("huda@@example")
    assert page.url.endswith(f"/t/acme/o/people/{person['id']}/edit")

    await page.fill("#f-email-primary", "huda@example.com")
    await page.get_by_role("button", name="Save").click()
    await page.wait_for_url(re.compile(rf".*/t/acme/o/people/{person['id']}$"))
    await expect(page.locator(".toast", has_text="Changes saved.")).to_be_visible()
    async with crm(settings, world.acme) as (connection, catalogue):
        stored = await records.get_record(connection, catalogue.objects["people"], uuid.UUID(person["id"]))
    assert (stored["city"], stored["email"]["primary"]) == ("Dammam", "huda@example.com")


@pytest.mark.browser
async def test_it_reads_right_to_left_in_arabic(page: Page, live_server: str, world: World, settings: Settings) -> None:
    page.problems.allow_status(422)  # type: ignore[attr-defined]
    await sign_in_browser(page, live_server, "alice@example.com")
    await use_language(page, live_server, "ar")
    await page.goto(f"{live_server}/t/acme/o/people/new")

    assert await page.get_attribute("html", "dir") == "rtl"
    await expect(page.locator("h1")).to_have_text("إضافة عميل")
    await expect(page.locator("label[for='f-first_name']")).to_have_text("الاسم الأول")
    await page.fill("#f-first_name", "نورة")
    await page.fill("#f-phone-primary", "١٢٣")
    await page.get_by_role("button", name="إنشاء").click()
    await expect(page.locator("#f-phone-error")).to_have_text("رقم الجوال غير صحيح.")
    await expect(page.locator("#f-first_name")).to_have_value("نورة")

    await page.fill("#f-phone-primary", "٠٥٠١٢٣٤٥٦٧")  # Arabic-Indic digits are numbers too
    await page.get_by_role("button", name="إنشاء").click()
    await page.wait_for_url(RECORD_URL)
    await expect(page.locator("h1")).to_have_text("نورة")
    await expect(page.locator(".toast")).to_contain_text("تمت إضافة عميل.")
    await expect(page.locator("#record-fields-heading")).to_have_text("التفاصيل")
    await page.fill("#new-task-title", "إرسال العينات")
    await page.get_by_role("button", name="إضافة مهمة").click()
    await expect(page.locator(".task-list .task", has_text="إرسال العينات")).to_be_visible()
    # The layout really mirrors: the details sit on the right, the timeline on the left.
    details = await page.locator(".record-main").bounding_box()
    timeline = await page.locator(".record-side").bounding_box()
    assert details is not None
    assert timeline is not None
    assert details["x"] > timeline["x"]

    async with crm(settings, world.acme) as (connection, catalogue):
        stored = await records.get_record(connection, catalogue.objects["people"], _record_id(page))
    assert stored["phone"]["primary"] == "+966501234567"
