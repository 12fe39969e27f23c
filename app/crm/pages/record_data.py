"""What the record page shows, gathered through the engine's services: the record and the titles of what it points
at, notes and tasks linked to it, related records, its timeline in words, and the choices of relation inputs.

Queries stay few and bounded: one per target object for titles, one per related object, never one per row.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from markupsafe import Markup, escape

from app.accounts import repository as accounts
from app.crm import links, records, repository
from app.crm.fields import FieldDefinition, FieldType
from app.crm.metadata import Catalogue, ObjectDefinition
from app.crm.pages import present
from app.crm.pages.dashboard import Dashboard
from app.crm.records import RecordNotFound
from app.crm.search import SearchTooShort, search_everything
from app.lib.i18n import gettext as _

__all__ = [
    "MEMBERS",
    "NOTES",
    "TASKS",
    "Panels",
    "RelatedGroup",
    "TimelineEntry",
    "add_linked",
    "field_titles",
    "linked_record",
    "member_titles",
    "panels",
    "relation_choices",
    "timeline_entries",
]

NOTES, TASKS = "notes", "tasks"
MEMBERS = "members"
"""Relation fields may point at the workspace's members (a task's assignee): they live outside the CRM."""

_CHOICES = 200
_RELATED_PER_OBJECT = 50


def target_of(field_def: FieldDefinition) -> str | None:
    return field_def.settings.get("target") if field_def.type == FieldType.RELATION else None


async def member_titles(dashboard: Dashboard) -> dict[str, str]:
    """``{user id: name}`` of the workspace's members."""
    members = await accounts.memberships_of_tenant(dashboard.tenant.id)
    return {str(member.user_id): member.name or member.email for member in members}


async def field_titles(
    dashboard: Dashboard, obj: ObjectDefinition, rows: Iterable[Mapping[str, Any]]
) -> dict[str, str]:
    """Titles of every relation value in ``rows`` (records or diffs keyed by field name): one query per target."""
    rows = list(rows)
    titles = await present.related_titles(dashboard.connection, dashboard.catalogue, obj, rows, dashboard.language)
    if any(target_of(f) == MEMBERS and any(row.get(f.name) for row in rows) for f in obj.fields):
        titles.update(await member_titles(dashboard))
    return titles


async def relation_choices(
    dashboard: Dashboard, field_def: FieldDefinition, selected: str | None = None, query: str | None = None
) -> list[tuple[str, str]]:
    """(id, title) a relation input offers: the hits of ``query``, else the first records by title; the selected
    record always among them."""
    target = target_of(field_def)
    if target == MEMBERS:
        return sorted((await member_titles(dashboard)).items(), key=lambda pair: pair[1].casefold())
    target_obj = dashboard.catalogue.get(target or "")
    if target_obj is None:
        return []
    language = dashboard.language
    found: list[dict[str, Any]] | None = None
    if query and query.strip():
        try:
            hits = await search_everything(
                dashboard.connection, Catalogue(objects={target_obj.name: target_obj}), query, per_object=20
            )
            found = hits.get(target_obj.name, [])
        except SearchTooShort:
            found = None  # one letter: the usual first records
    if found is None:
        page = await records.list_records_by(
            dashboard.connection, target_obj, filter=None, sorts=(), limit=_CHOICES, cursor=None, with_total=False
        )
        found = sorted(page.records, key=lambda row: present.record_title(target_obj, row, language).casefold())
    choices = [(str(row["id"]), present.record_title(target_obj, row, language)) for row in found]
    if selected and all(choice_id != selected for choice_id, _title in choices):
        try:
            chosen = await records.records_by_ids(dashboard.connection, target_obj, [uuid.UUID(selected)])
        except ValueError:
            chosen = []
        choices[:0] = [(str(row["id"]), present.record_title(target_obj, row, language)) for row in chosen]
    return choices


async def missing_relations(dashboard: Dashboard, obj: ObjectDefinition, data: Mapping[str, Any]) -> dict[str, str]:
    """Relation values that name no live record of their target (the engine only checks that they are ids)."""
    problems: dict[str, str] = {}
    for field_def in obj.fields:
        value, target = data.get(field_def.name), target_of(field_def)
        target_obj = dashboard.catalogue.get(target or "")
        if not value or target_obj is None:
            continue
        try:
            wanted = uuid.UUID(str(value))
        except ValueError:
            continue  # the engine explains it
        if not await records.records_by_ids(dashboard.connection, target_obj, [wanted]):
            problems[field_def.name] = _("Choose a record from the list.")
    return problems


# --- notes, tasks and related records ----------------------------------------------------------------------------


@dataclass
class RelatedGroup:
    obj: ObjectDefinition
    label: str
    items: list[dict[str, Any]]
    """Each: id, title, url, summary (safe HTML)."""


@dataclass
class Panels:
    notes: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    related: list[RelatedGroup] = field(default_factory=list)
    shows_notes: bool = False
    shows_tasks: bool = False


def has_notes_and_tasks(dashboard: Dashboard, obj: ObjectDefinition) -> tuple[bool, bool]:
    """Notes and tasks are kept on any record but notes and tasks themselves."""
    ordinary = obj.name not in (NOTES, TASKS)
    return (
        ordinary and dashboard.catalogue.get(NOTES) is not None,
        ordinary and dashboard.catalogue.get(TASKS) is not None,
    )


def _summary(dashboard: Dashboard, other: ObjectDefinition, row: Mapping[str, Any]) -> Markup:
    """Two telling values of a related record (a deal's stage and amount, an order's total and date)."""
    title_names = {f.name for f in present.title_fields(other)}
    shown: list[Markup] = []
    preferred = (FieldType.SELECT, FieldType.CURRENCY, FieldType.DATE, FieldType.DATETIME, FieldType.TEXT)
    for kind in preferred:
        for field_def in other.fields:
            if len(shown) == 2:
                break
            if field_def.type != kind or field_def.name in title_names:
                continue
            if field_def.name == "salla_id" or not row.get(field_def.name):
                continue
            shown.append(present.show(field_def, row[field_def.name], dashboard.language))
    return Markup(" · ").join(shown)


def note_view(dashboard: Dashboard, note: Mapping[str, Any]) -> dict[str, Any]:
    notes = dashboard.catalogue.get(NOTES)
    assert notes is not None
    body = notes.field("body")
    return {
        "id": note["id"],
        "title": note.get("title") or "",
        "body_html": present.show(body, note.get("body"), dashboard.language) if body is not None else Markup(""),
        "by": (note.get("created_by") or {}).get("name") or "",
        "at": note["created_at"],
        "record": note,
    }


def task_view(dashboard: Dashboard, task: Mapping[str, Any]) -> dict[str, Any]:
    tasks = dashboard.catalogue.get(TASKS)
    assert tasks is not None
    status = tasks.field("status")
    due = task.get("due_at")
    done = task.get("status") == "done"
    overdue = False
    if due and not done:
        try:
            overdue = datetime.fromisoformat(str(due).replace("Z", "+00:00")) < datetime.now(UTC)
        except ValueError:
            overdue = False
    return {
        "id": task["id"],
        "title": task.get("title") or present.gettext_in("Untitled", dashboard.language),
        "done": done,
        "due": due,
        "overdue": overdue,
        "status_html": present.show(status, task.get("status"), dashboard.language) if status else Markup(""),
        "record": task,
    }


def _task_order(task: Mapping[str, Any]) -> tuple[bool, bool, str]:
    due = str(task.get("due_at") or "")
    return (task.get("status") == "done", not due, due)


async def panels(dashboard: Dashboard, obj: ObjectDefinition, record: Mapping[str, Any]) -> Panels:
    """Notes, tasks and related records of a record the page has just read."""
    found = await links.records_related_to(
        dashboard.connection, dashboard.catalogue, obj, uuid.UUID(str(record["id"])), limit=_RELATED_PER_OBJECT
    )
    result = Panels()
    result.shows_notes, result.shows_tasks = has_notes_and_tasks(dashboard, obj)
    for name, rows in found.items():
        other = dashboard.catalogue.get(name)
        if other is None:
            continue
        unique = list({str(row["id"]): row for row in rows}.values())
        if name == NOTES and result.shows_notes:
            unique.sort(key=lambda row: str(row["created_at"]), reverse=True)
            result.notes = [note_view(dashboard, row) for row in unique]
            continue
        if name == TASKS and result.shows_tasks:
            unique.sort(key=_task_order)
            result.tasks = [task_view(dashboard, row) for row in unique]
            continue
        items = [
            {
                "id": row["id"],
                "title": present.record_title(other, row, dashboard.language),
                "url": dashboard.url("o", other.name, row["id"]),
                "summary": _summary(dashboard, other, row),
            }
            for row in unique
        ]
        result.related.append(
            RelatedGroup(obj=other, label=present.object_label(other, dashboard.language), items=items)
        )
    return result


async def add_linked(
    dashboard: Dashboard, obj: ObjectDefinition, record_id: uuid.UUID, other: ObjectDefinition, data: Mapping[str, Any]
) -> dict[str, Any]:
    """Create a note or a task and link it to the record, all or nothing. Raises RecordInvalid, RecordNotFound."""
    async with dashboard.connection.transaction():
        await records.get_record(dashboard.connection, obj, record_id)
        created = await records.create_record(dashboard.connection, other, data, dashboard.actor)
        await links.link_records(
            dashboard.connection, (other, uuid.UUID(created["id"])), (obj, record_id), dashboard.actor
        )
    return created


async def linked_record(
    dashboard: Dashboard, obj: ObjectDefinition, record_id: uuid.UUID, other: ObjectDefinition, other_id: uuid.UUID
) -> dict[str, Any]:
    """A note or task of this record; not linked to it (or deleted) is not found."""
    await records.get_record(dashboard.connection, obj, record_id)
    linked = await repository.linked_ids(dashboard.connection, obj.name, record_id)
    if other_id not in linked.get(other.name, []):
        raise RecordNotFound(str(other_id))
    return await records.get_record(dashboard.connection, other, other_id)


# --- the timeline ------------------------------------------------------------------------------------------------


@dataclass
class TimelineEntry:
    at: str
    kind: str
    sentence: str
    changes: list[tuple[str, Markup, Markup]] = field(default_factory=list)
    link: tuple[str, str, str] | None = None
    """(object label, url, title) of a linked record."""


def _who(actor: Mapping[str, Any]) -> str:
    name = str(actor.get("name") or "")
    source = actor.get("source")
    if source == "user":
        return name or _("Someone")
    labels = {
        "api_key": _("API key"),
        "salla": _("Salla"),
        "widget": _("Storefront assistant"),
        "import": _("Import"),
        "system": _("Wosool"),
    }
    label = labels.get(str(source), _("Someone"))
    return f"{label} ({name})" if name and name != label else label


def _sentence(kind: str, who: str) -> str:
    if kind == "created":
        return _("Created by %(who)s") % {"who": who}
    if kind == "updated":
        return _("Changed by %(who)s") % {"who": who}
    if kind == "deleted":
        return _("Deleted by %(who)s") % {"who": who}
    if kind == "restored":
        return _("Restored by %(who)s") % {"who": who}
    if kind == "linked":
        return _("Linked by %(who)s to") % {"who": who}
    return _("Updated by %(who)s") % {"who": who}


def _shown(field_def: FieldDefinition | None, value: Any, language: str, titles: Mapping[str, str]) -> Markup:
    if value is None or value == [] or value == "":
        return Markup('<span class="muted">—</span>')
    if field_def is None:
        return escape(str(value))
    return present.show(field_def, value, language, titles=titles) or Markup('<span class="muted">—</span>')


async def timeline_entries(
    dashboard: Dashboard, obj: ObjectDefinition, events: Sequence[Mapping[str, Any]]
) -> list[TimelineEntry]:
    """A record's timeline in words, from its events (`records.get_record_and_timeline`)."""
    language = dashboard.language
    value_rows: list[dict[str, Any]] = []
    linked_ids: dict[str, set[uuid.UUID]] = {}
    for event in events:
        changes = event.get("changes") or {}
        if event["kind"] in ("created", "updated"):
            for name, pair in changes.items():
                if isinstance(pair, Sequence) and len(pair) == 2:
                    value_rows.extend(({name: pair[0]}, {name: pair[1]}))
        elif event["kind"] == "linked" and dashboard.catalogue.get(str(changes.get("object"))) is not None:
            with contextlib.suppress(ValueError):
                linked_ids.setdefault(str(changes["object"]), set()).add(uuid.UUID(str(changes.get("id"))))
    titles = await field_titles(dashboard, obj, value_rows) if value_rows else {}
    linked_titles: dict[str, str] = {}
    for name, ids in linked_ids.items():
        other = dashboard.catalogue.get(name)
        assert other is not None
        for row in await records.records_by_ids(dashboard.connection, other, list(ids)):
            linked_titles[str(row["id"])] = present.record_title(other, row, language)
    order = {f.name: position for position, f in enumerate(obj.fields)}
    entries: list[TimelineEntry] = []
    for event in events:
        kind = str(event["kind"])
        entry = TimelineEntry(at=str(event["at"]), kind=kind, sentence=_sentence(kind, _who(event["actor"])))
        changes = event.get("changes") or {}
        if kind in ("created", "updated"):
            for name, pair in sorted(changes.items(), key=lambda item: order.get(item[0], len(order))):
                if not (isinstance(pair, Sequence) and len(pair) == 2):
                    continue
                field_def = obj.field(name)
                label = present.field_label(field_def, language) if field_def else name
                entry.changes.append(
                    (label, _shown(field_def, pair[0], language, titles), _shown(field_def, pair[1], language, titles))
                )
        elif kind == "linked":
            other = dashboard.catalogue.get(str(changes.get("object")))
            other_id = str(changes.get("id") or "")
            if other is not None and other_id in linked_titles:
                entry.link = (
                    present.object_label(other, language, plural=False),
                    dashboard.url("o", other.name, other_id),
                    linked_titles[other_id],
                )
            elif other is not None:
                entry.link = (present.object_label(other, language, plural=False), "", _("(deleted)"))
        entries.append(entry)
    return entries
