"""Notes and tasks on a record: added, edited and completed in place (fragments, no reload), stored as notes and
tasks linked to the record, and out of reach from other records and other tenants."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from httpx import AsyncClient

from app.crm import links, records, schema_changes
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


async def _customer(settings: Settings, world: World, name: str = "Sara") -> str:
    async with crm(settings, world.acme) as (connection, catalogue):
        person = await records.create_record(connection, catalogue.objects["people"], {"first_name": name}, SYSTEM)
    return str(person["id"])


async def _linked(settings: Settings, world: World, person_id: str, object_name: str) -> list[dict[str, Any]]:
    async with crm(settings, world.acme) as (connection, catalogue):
        related = await links.related_records(connection, catalogue, catalogue.objects["people"], uuid.UUID(person_id))
    return related.get(object_name, [])


async def test_a_note_is_added_and_edited_in_place(client: AsyncClient, world: World, settings: Settings) -> None:
    person = await _customer(settings, world)
    await sign_in(client, "alice@example.com")
    url = f"/t/acme/o/people/{person}"

    added = await client.post(
        f"{url}/notes",
        data={"_fields": ["title", "body"], "title": "Called her", "body": "Wants the <b>oud</b> gift box"},
        headers=_htmx(client),
    )

    assert added.status_code == 200
    assert added.text.lstrip().startswith('<section class="record-card record-notes" id="record-notes"')
    assert "Called her" in added.text
    assert "<b>oud</b>" in added.text
    assert 'value="Called her"' not in added.text  # the form is empty again
    assert "Note added." in added.headers["HX-Trigger"]
    [note] = await _linked(settings, world, person, "notes")
    assert note["title"] == "Called her"
    assert note["body"] == "Wants the <b>oud</b> gift box"
    assert note["created_by"]["source"] == "user"

    edit = await client.get(f"{url}/notes/{note['id']}/edit", headers=_htmx(client))
    assert edit.status_code == 200
    assert 'value="Called her"' in edit.text
    assert "autofocus" in edit.text
    saved = await client.post(
        f"{url}/notes/{note['id']}",
        data={"_fields": ["title", "body"], "title": "Called her twice", "body": "Ordered the box"},
        headers=_htmx(client),
    )
    assert saved.status_code == 200
    assert saved.text.lstrip().startswith(f'<li class="note" id="note-{note["id"]}"')
    assert "Called her twice" in saved.text
    [note] = await _linked(settings, world, person, "notes")
    assert (note["title"], note["body"]) == ("Called her twice", "Ordered the box")

    page = await client.get(url)
    assert "Called her twice" in page.text
    assert "Ordered the box" in page.text


async def test_an_empty_note_is_refused(client: AsyncClient, world: World, settings: Settings) -> None:
    person = await _customer(settings, world)
    await sign_in(client, "alice@example.com")

    answer = await client.post(
        f"/t/acme/o/people/{person}/notes", data={"title": "", "body": "  "}, headers=_htmx(client)
    )

    assert answer.status_code == 422
    assert "Write something first." in answer.text
    assert await _linked(settings, world, person, "notes") == []


async def test_a_task_is_added_completed_and_opened_again(
    client: AsyncClient, world: World, settings: Settings
) -> None:
    person = await _customer(settings, world)
    await sign_in(client, "alice@example.com")
    url = f"/t/acme/o/people/{person}"

    added = await client.post(
        f"{url}/tasks",
        data={
            "_fields": ["title", "due_at", "status"],
            "title": "Send samples",
            "due_at": "2026-04-02T10:00",
            "status": "todo",
        },
        headers=_htmx(client),
    )

    assert added.status_code == 200
    assert "Send samples" in added.text
    assert "Task added." in added.headers["HX-Trigger"]
    [task] = await _linked(settings, world, person, "tasks")
    assert task["title"] == "Send samples"
    assert task["status"] == "todo"
    assert task["due_at"] == "2026-04-02T07:00:00Z"  # 10:00 in Riyadh

    done = await client.post(f"{url}/tasks/{task['id']}/done", data={"done": "true"}, headers=_htmx(client))
    assert done.status_code == 200
    assert done.text.lstrip().startswith(f'<li class="task task-done" id="task-{task["id"]}"')
    assert " checked" in done.text
    [task] = await _linked(settings, world, person, "tasks")
    assert task["status"] == "done"

    reopened = await client.post(f"{url}/tasks/{task['id']}/done", data={}, headers=_htmx(client))
    assert reopened.status_code == 200
    assert 'class="task task-done"' not in reopened.text
    [task] = await _linked(settings, world, person, "tasks")
    assert task["status"] == "todo"


async def test_a_task_is_edited_in_place(client: AsyncClient, world: World, settings: Settings) -> None:
    person = await _customer(settings, world)
    await sign_in(client, "alice@example.com")
    url = f"/t/acme/o/people/{person}"
    await client.post(f"{url}/tasks", data={"title": "Call back", "status": "todo"}, headers=_htmx(client))
    [task] = await _linked(settings, world, person, "tasks")

    edit = await client.get(f"{url}/tasks/{task['id']}/edit", headers=_htmx(client))
    saved = await client.post(
        f"{url}/tasks/{task['id']}",
        data={"title": "Call back on Sunday", "due_at": "2026-04-05T09:00", "status": "in_progress"},
        headers=_htmx(client),
    )
    bad = await client.post(f"{url}/tasks/{task['id']}", data={"title": "", "status": "todo"}, headers=_htmx(client))

    assert edit.status_code == 200
    assert 'value="Call back"' in edit.text
    assert saved.status_code == 200
    assert "Call back on Sunday" in saved.text
    assert "In progress" in saved.text
    assert bad.status_code == 422
    assert "This field is required." in bad.text
    [task] = await _linked(settings, world, person, "tasks")
    assert (task["title"], task["status"], task["due_at"]) == (
        "Call back on Sunday",
        "in_progress",
        "2026-04-05T06:00:00Z",
    )


async def test_a_task_without_a_title_keeps_what_was_typed(
    client: AsyncClient, world: World, settings: Settings
) -> None:
    person = await _customer(settings, world)
    await sign_in(client, "alice@example.com")

    answer = await client.post(
        f"/t/acme/o/people/{person}/tasks",
        data={"title": "", "due_at": "2026-04-02T10:00", "status": "in_progress"},
        headers=_htmx(client),
    )

    assert answer.status_code == 422
    assert "This field is required." in answer.text
    assert 'value="2026-04-02T10:00"' in answer.text
    assert '<option value="in_progress" selected>' in answer.text
    assert await _linked(settings, world, person, "tasks") == []


async def test_notes_and_tasks_belong_to_their_record(client: AsyncClient, world: World, settings: Settings) -> None:
    sara, huda = await _customer(settings, world, "Sara"), await _customer(settings, world, "Huda")
    await sign_in(client, "alice@example.com")
    await client.post(f"/t/acme/o/people/{sara}/notes", data={"body": "Sara's note"}, headers=_htmx(client))
    await client.post(f"/t/acme/o/people/{sara}/tasks", data={"title": "Sara's task"}, headers=_htmx(client))
    [note] = await _linked(settings, world, sara, "notes")
    [task] = await _linked(settings, world, sara, "tasks")

    through_huda = [
        await client.get(f"/t/acme/o/people/{huda}/notes/{note['id']}/edit"),
        await client.post(f"/t/acme/o/people/{huda}/notes/{note['id']}", data={"body": "x"}, headers=_htmx(client)),
        await client.post(
            f"/t/acme/o/people/{huda}/tasks/{task['id']}/done", data={"done": "true"}, headers=_htmx(client)
        ),
    ]

    assert [answer.status_code for answer in through_huda] == [404, 404, 404]
    assert (await _linked(settings, world, sara, "notes"))[0]["body"] == "Sara's note"
    assert (await _linked(settings, world, sara, "tasks"))[0]["status"] == "todo"
    huda_page = await client.get(f"/t/acme/o/people/{huda}")
    assert "Sara&#39;s note" not in huda_page.text
    assert "Sara's note" not in huda_page.text


async def test_another_tenant_cannot_add_or_complete(client: AsyncClient, world: World, settings: Settings) -> None:
    person = await _customer(settings, world)
    await sign_in(client, "alice@example.com")
    await client.post(f"/t/acme/o/people/{person}/tasks", data={"title": "Mine"}, headers=_htmx(client))
    [task] = await _linked(settings, world, person, "tasks")
    client.cookies.clear()
    await sign_in(client, "charlie@example.com")

    note = await client.post(f"/t/acme/o/people/{person}/notes", data={"body": "intruder"}, headers=_htmx(client))
    done = await client.post(
        f"/t/acme/o/people/{person}/tasks/{task['id']}/done", data={"done": "true"}, headers=_htmx(client)
    )

    assert (note.status_code, done.status_code) == (404, 404)
    assert await _linked(settings, world, person, "notes") == []
    assert (await _linked(settings, world, person, "tasks"))[0]["status"] == "todo"


async def test_adding_a_note_needs_the_csrf_token(client: AsyncClient, world: World, settings: Settings) -> None:
    person = await _customer(settings, world)
    await sign_in(client, "alice@example.com")

    answer = await client.post(f"/t/acme/o/people/{person}/notes", data={"body": "no token"})

    assert answer.status_code == 403
    assert await _linked(settings, world, person, "notes") == []


async def test_notes_are_escaped_and_sanitised(client: AsyncClient, world: World, settings: Settings) -> None:
    person = await _customer(settings, world)
    await sign_in(client, "alice@example.com")

    added = await client.post(
        f"/t/acme/o/people/{person}/notes",
        data={"title": "<i>title</i>", "body": "<script>alert(1)</script><a href='javascript:x'>link</a>"},
        headers=_htmx(client),
    )

    assert added.status_code == 200
    assert "&lt;i&gt;title&lt;/i&gt;" in added.text
    assert "<script>alert(1)" not in added.text
    assert "javascript:" not in added.text


async def test_the_blank_add_forms_stay_blank_and_follow_the_catalogue_and_language(
    client: AsyncClient, world: World, settings: Settings
) -> None:
    """The blank "add" forms are rendered once per process (records.py, `_new_inputs`): what one person typed must
    never show on another page, and a renamed field or another language must show at once."""
    sara, huda = await _customer(settings, world), await _customer(settings, world, "Huda")
    await sign_in(client, "alice@example.com")
    first = (await client.get(f"/t/acme/o/people/{sara}")).text
    refused = await client.post(
        f"/t/acme/o/people/{sara}/tasks", data={"title": "", "due_at": "2026-04-02T10:00"}, headers=_htmx(client)
    )
    other = (await client.get(f"/t/acme/o/people/{huda}")).text
    async with crm(settings, world.acme) as (connection, _catalogue):
        await schema_changes.change_field(
            connection, world.acme, "tasks", "title", schema_changes.FieldChanges(label_en="To do", label_ar="المهمة")
        )
    renamed = (await client.get(f"/t/acme/o/people/{huda}")).text
    await client.get("/language/ar?next=/")
    arabic = (await client.get(f"/t/acme/o/people/{huda}")).text

    assert refused.status_code == 422
    assert 'value="2026-04-02T10:00"' in refused.text
    assert 'value="2026-04-02T10:00"' not in other
    assert 'id="new-task-title"' in first
    assert 'id="new-task-title"' in other
    assert 'placeholder="To do"' in renamed
    assert 'placeholder="To do"' not in other
    assert 'placeholder="المهمة"' in arabic
