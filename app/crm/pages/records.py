"""Dashboard pages: a record (fields, related records, timeline, notes and tasks), the create and edit forms, and
per-field inline editing (also used by the table's cells).

Forms answer 422 with themselves re-rendered from what was typed and the engine's reasons next to each field; a
success moves on with HX-Location (a 303 without htmx) and a toast. In-page changes answer fragments:
- ``/o/{object}/{id}/fields/{field}`` (GET show, GET ``/edit``, POST save) answer the INNER HTML of a
  ``[data-field-slot]`` element;
- notes and tasks answer their ``<li>`` or their whole section.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from markupsafe import Markup, escape

from app.crm import records
from app.crm.fields import FieldDefinition, RecordInvalid, validate_record
from app.crm.metadata import ObjectDefinition
from app.crm.pages import present
from app.crm.pages.dashboard import Dashboard, toast
from app.crm.pages.forms import (
    FIELDS_KEY,
    FormState,
    Parsed,
    draft_of,
    draft_of_record,
    explain,
    parse_fields,
)
from app.crm.pages.record_data import (
    NOTES,
    TASKS,
    add_linked,
    field_titles,
    linked_record,
    missing_relations,
    note_view,
    panels,
    relation_choices,
    target_of,
    task_view,
    timeline_entries,
)
from app.lib.i18n import gettext as _
from app.lib.remembered import Remembered

__all__ = ["RECORD_PAGE_ROUTES"]

_CHANGED = "wosool:record-changed"
"""Fired after an in-page change of a record: its page refreshes the header and the timeline."""


# --- helpers -----------------------------------------------------------------------------------------------------


def _field(obj: ObjectDefinition, name: str) -> FieldDefinition:
    found = obj.field(name)
    if found is None:
        raise NotFoundException("No such field.")
    return found


def _linked_object(dashboard: Dashboard, name: str) -> ObjectDefinition:
    return dashboard.object(name)


def _state(dashboard: Dashboard, obj: ObjectDefinition, draft: dict[str, Any], prefix: str = "f") -> FormState:
    return FormState(
        draft=draft,
        prefix=prefix,
        language=dashboard.language,
        options_base=dashboard.url("o", obj.name, "fields"),
    )


async def _with_choices(dashboard: Dashboard, fields: Iterable[FieldDefinition], state: FormState) -> FormState:
    for field_def in fields:
        if target_of(field_def):
            state.choices[field_def.name] = await relation_choices(
                dashboard, field_def, selected=state.value(field_def) or None
            )
    return state


async def _problems(dashboard: Dashboard, obj: ObjectDefinition, parsed: Parsed, *, partial: bool) -> dict[str, str]:
    """Everything wrong with a form, in the viewer's language, before anything is stored."""
    errors = dict(parsed.errors)
    for name, message in (await missing_relations(dashboard, obj, parsed.data)).items():
        errors.setdefault(name, message)
    readable = {name: value for name, value in parsed.data.items() if name not in errors}
    try:
        validate_record(obj.fields, readable, partial=partial)
    except RecordInvalid as invalid:
        for name, reason in invalid.errors.items():
            errors.setdefault(name, explain(reason))
    return errors


def _explained(invalid: RecordInvalid) -> dict[str, str]:
    return {name: explain(reason) for name, reason in invalid.errors.items()}


def _listed_fields(obj: ObjectDefinition, form: FormMultiDict) -> list[FieldDefinition]:
    """The fields a form holds (its hidden ``_fields``); every field when it does not say."""
    listed = [str(name) for name in form.getall(FIELDS_KEY, [])]
    if not listed:
        return list(obj.fields)
    return [field_def for field_def in obj.fields if field_def.name in listed]


def _move_on(request: Request[Any, Any, Any], url: str, message: str) -> Response[Any]:
    """After a form: htmx goes to ``url`` without a reload and shows ``message`` there; a plain browser gets a 303."""
    if request.headers.get("hx-request") != "true":
        return Redirect(url, status_code=303)
    return Response(
        content=b"",
        status_code=200,
        headers={
            "HX-Location": json.dumps({"path": url, "target": "body"}),
            # Shown once the next page is in (static/js/record.js): a toast now would be swapped away.
            "HX-Trigger": json.dumps({"wosool:toast-next": {"message": message, "kind": "success"}}, ensure_ascii=True),
        },
    )


def _changed(response: Response[Any], message: str) -> Response[Any]:
    toast(response, message)
    existing = json.loads(response.headers.get("HX-Trigger", "{}") or "{}")
    response.headers["HX-Trigger"] = json.dumps({**existing, _CHANGED: {}}, ensure_ascii=True)
    return response


def _title(obj: ObjectDefinition, record: Mapping[str, Any], language: str) -> str:
    return present.record_title(obj, record, language)


# --- create ------------------------------------------------------------------------------------------------------


async def _form_page(
    dashboard: Dashboard,
    obj: ObjectDefinition,
    state: FormState,
    *,
    record: Mapping[str, Any] | None,
    status_code: int = 200,
) -> Template:
    await _with_choices(dashboard, obj.fields, state)
    language = dashboard.language
    if record is None:
        action = dashboard.url("o", obj.name)
        cancel = dashboard.url("o", obj.name)
        heading = _("New %(object)s") % {"object": present.object_label(obj, language, plural=False)}
    else:
        action = dashboard.url("o", obj.name, record["id"])
        cancel = action
        heading = _("Edit %(title)s") % {"title": _title(obj, record, language)}
    return dashboard.page(
        "crm/form.html",
        status_code=status_code,
        obj=obj,
        record=record,
        form=state,
        fields=obj.fields,
        heading=heading,
        action=action,
        cancel_url=cancel,
        list_url=dashboard.url("o", obj.name),
        object_label=present.object_label(obj, language),
        record_title=_title(obj, record, language) if record is not None else "",
    )


@get("/o/{object_name:str}/new", name="record-new", cache=False)
async def record_new(
    request: Request[Any, Any, Any], dashboard: NamedDependency[Dashboard], object_name: FromPath[str]
) -> Template:
    """The create form; ``?field=value`` fills inputs in (a deal for this customer: ``?point_of_contact=<id>``)."""
    obj = dashboard.object(object_name)
    draft = draft_of_record(obj.fields, None, dashboard.timezone)
    for key, value in request.query_params.items():
        if key in draft and isinstance(draft[key], str):
            draft[key] = str(value)
    return await _form_page(dashboard, obj, _state(dashboard, obj, draft), record=None)


@post("/o/{object_name:str}", name="record-create")
async def record_create(
    request: Request[Any, Any, Any], dashboard: NamedDependency[Dashboard], object_name: FromPath[str]
) -> Response[Any]:
    obj = dashboard.object(object_name)
    form = await request.form()
    parsed = parse_fields(_listed_fields(obj, form), form, dashboard.timezone)
    errors = await _problems(dashboard, obj, parsed, partial=False)
    if not errors:
        try:
            created = await records.create_record(dashboard.connection, obj, parsed.data, dashboard.actor)
        except RecordInvalid as invalid:
            errors = _explained(invalid)
    if errors:
        state = _state(dashboard, obj, {**draft_of_record(obj.fields, None, dashboard.timezone), **parsed.draft})
        state.errors = errors
        return await _form_page(dashboard, obj, state, record=None, status_code=422)
    message = _("%(object)s added.") % {"object": present.object_label(obj, dashboard.language, plural=False)}
    return _move_on(request, dashboard.url("o", obj.name, created["id"]), message)


# --- the record page ---------------------------------------------------------------------------------------------


def _display(dashboard: Dashboard, field_def: FieldDefinition, value: Any, titles: Mapping[str, str]) -> Markup:
    """A value as the record page shows it: a related record as a link to its page."""
    shown = present.show(field_def, value, dashboard.language, titles=titles)
    target = target_of(field_def)
    if value and target and dashboard.catalogue.get(target) is not None and str(value) in titles:
        return Markup('<a href="{}" dir="auto">{}</a>').format(dashboard.url("o", target, value), shown)
    return shown


async def _fields_html(dashboard: Dashboard, obj: ObjectDefinition, record: Mapping[str, Any]) -> Markup:
    """The record's fields, each with its label in its inline-edit slot (crm/_record_field.html)."""
    titles = await field_titles(dashboard, obj, [record])
    record_url = dashboard.url("o", obj.name, record["id"])
    parts: list[str] = []
    for field_def, show in zip(obj.fields, _showers(obj, dashboard.language), strict=True):
        value = record.get(field_def.name)
        shown = _display(dashboard, field_def, value, titles) if show is None else show(value)
        field_url = escape(f"{record_url}/fields/{field_def.name}")
        if shown:
            before, between, after = _field_parts(dashboard, obj, field_def, filled=True)
            parts += (before, shown, between, field_url, after)
        else:
            before, after = _field_parts(dashboard, obj, field_def, filled=False)
            parts += (before, field_url, after)
    return Markup("".join(parts))  # noqa: S704 - the parts come from an autoescaping template, the rest is escaped


_remembered_showers: Remembered[tuple[present.Shower | None, ...]] = Remembered(1000)


def _showers(obj: ObjectDefinition, language: str) -> tuple[present.Shower | None, ...]:
    """How each field's value is shown, made once per definition and language; None for a relation, whose
    record's title (and link) depend on the page."""
    found = _remembered_showers.get(obj, language)
    if found is None:
        found = tuple(None if target_of(field) else present.shower(field, language) for field in obj.fields)
        _remembered_showers.put(obj, language, found)
    return found


_SHOWN, _URL = "wosool-field-shown-stand-in", "wosool-field-url-stand-in"
"""Stand-ins for a field's value and URL: text that escaping leaves as it is."""
_remembered_field_parts: Remembered[tuple[str, ...]] = Remembered(4000)


def _field_parts(
    dashboard: Dashboard, obj: ObjectDefinition, field_def: FieldDefinition, *, filled: bool
) -> tuple[str, ...]:
    """crm/_record_field.html cut where the value and the URL go: rendered once per process for each field
    definition, language and whether the field has a value (a record page shows a dozen fields or more, and a
    template's macro called for each cost more than the rest of the page's fields together)."""
    key = (field_def.name, dashboard.language, filled)
    found = _remembered_field_parts.get(obj, key)
    if found is None:
        shown = Markup(_SHOWN) if filled else Markup("")  # noqa: S704 - a constant
        html = dashboard.render_fragment(
            "crm/_record_field.html", field=field_def, shown=shown, field_url=_URL, language=dashboard.language
        )
        if filled:
            before, rest = _cut(html, _SHOWN)
            between, after = _cut(rest, _URL)
            found = (before, between, after)
        else:
            found = _cut(html, _URL)
        _remembered_field_parts.put(obj, key, found)
    return found


def _cut(html: str, stand_in: str) -> tuple[str, str]:
    before, found, after = html.partition(stand_in)
    if not found or stand_in in after:
        raise RuntimeError(f"crm/_record_field.html must show {stand_in} exactly once")
    return before, after


def _page_context(dashboard: Dashboard, obj: ObjectDefinition, record: Mapping[str, Any]) -> dict[str, Any]:
    record_url = dashboard.url("o", obj.name, record["id"])
    return {
        "obj": obj,
        "record": record,
        "record_url": record_url,
        "title": _title(obj, record, dashboard.language),
        "object_label": present.object_label(obj, dashboard.language),
        "object_singular": present.object_label(obj, dashboard.language, plural=False),
        "list_url": dashboard.url("o", obj.name),
        "notes_obj": dashboard.catalogue.get(NOTES),
        "tasks_obj": dashboard.catalogue.get(TASKS),
        "new_inputs": partial(_new_inputs, dashboard),
    }


@get("/o/{object_name:str}/{record_id:uuid}", name="record-page", cache=False)
async def record_page(
    dashboard: NamedDependency[Dashboard], object_name: FromPath[str], record_id: FromPath[uuid.UUID]
) -> Template:
    obj = dashboard.object(object_name)
    record, events = await records.get_record_and_timeline(dashboard.connection, obj, record_id)
    found = await panels(dashboard, obj, record)
    return dashboard.page(
        "crm/record.html",
        **_page_context(dashboard, obj, record),
        fields_html=await _fields_html(dashboard, obj, record),
        panels=found,
        notes=found.notes,
        tasks=found.tasks,
        timeline=await timeline_entries(dashboard, obj, events),
        note_form=_new_form(dashboard, _NOTES),
        task_form=_new_form(dashboard, _TASKS),
    )


@get("/o/{object_name:str}/{record_id:uuid}/header", name="record-header", cache=False)
async def record_header(
    dashboard: NamedDependency[Dashboard], object_name: FromPath[str], record_id: FromPath[uuid.UUID]
) -> Template:
    obj = dashboard.object(object_name)
    record = await records.get_record(dashboard.connection, obj, record_id)
    return dashboard.page("crm/_record_header.html", **_page_context(dashboard, obj, record))


@get("/o/{object_name:str}/{record_id:uuid}/timeline", name="record-timeline", cache=False)
async def record_timeline(
    dashboard: NamedDependency[Dashboard], object_name: FromPath[str], record_id: FromPath[uuid.UUID]
) -> Template:
    obj = dashboard.object(object_name)
    record, events = await records.get_record_and_timeline(dashboard.connection, obj, record_id)
    return dashboard.page(
        "crm/_record_timeline.html",
        **_page_context(dashboard, obj, record),
        timeline=await timeline_entries(dashboard, obj, events),
    )


# --- edit and delete ---------------------------------------------------------------------------------------------


@get("/o/{object_name:str}/{record_id:uuid}/edit", name="record-edit", cache=False)
async def record_edit(
    dashboard: NamedDependency[Dashboard], object_name: FromPath[str], record_id: FromPath[uuid.UUID]
) -> Template:
    obj = dashboard.object(object_name)
    record = await records.get_record(dashboard.connection, obj, record_id)
    state = _state(dashboard, obj, draft_of_record(obj.fields, record, dashboard.timezone))
    return await _form_page(dashboard, obj, state, record=record)


@post("/o/{object_name:str}/{record_id:uuid}", name="record-update")
async def record_update(
    request: Request[Any, Any, Any],
    dashboard: NamedDependency[Dashboard],
    object_name: FromPath[str],
    record_id: FromPath[uuid.UUID],
) -> Response[Any]:
    obj = dashboard.object(object_name)
    record = await records.get_record(dashboard.connection, obj, record_id)
    form = await request.form()
    parsed = parse_fields(_listed_fields(obj, form), form, dashboard.timezone)
    errors = await _problems(dashboard, obj, parsed, partial=True)
    if not errors:
        try:
            await records.update_record(dashboard.connection, obj, record_id, parsed.data, dashboard.actor)
        except RecordInvalid as invalid:
            errors = _explained(invalid)
    if errors:
        state = _state(dashboard, obj, {**draft_of_record(obj.fields, record, dashboard.timezone), **parsed.draft})
        state.errors = errors
        return await _form_page(dashboard, obj, state, record=record, status_code=422)
    return _move_on(request, dashboard.url("o", obj.name, record_id), _("Changes saved."))


@post("/o/{object_name:str}/{record_id:uuid}/delete", name="record-delete")
async def record_delete(
    request: Request[Any, Any, Any],
    dashboard: NamedDependency[Dashboard],
    object_name: FromPath[str],
    record_id: FromPath[uuid.UUID],
) -> Response[Any]:
    obj = dashboard.object(object_name)
    record = await records.get_record(dashboard.connection, obj, record_id)
    await records.delete_record(dashboard.connection, obj, record_id, dashboard.actor)
    message = _("%(title)s was deleted.") % {"title": _title(obj, record, dashboard.language)}
    return _move_on(request, dashboard.url("o", obj.name), message)


# --- one field, inline -------------------------------------------------------------------------------------------


async def _field_show(
    dashboard: Dashboard, obj: ObjectDefinition, record: Mapping[str, Any], field_def: FieldDefinition
) -> Template:
    titles = await field_titles(dashboard, obj, [{field_def.name: record.get(field_def.name)}])
    return dashboard.page(
        "crm/_field_show.html",
        obj=obj,
        record=record,
        field=field_def,
        shown=_display(dashboard, field_def, record.get(field_def.name), titles),
        label=present.field_label(field_def, dashboard.language),
        field_url=dashboard.url("o", obj.name, record["id"], "fields", field_def.name),
    )


async def _field_form(
    dashboard: Dashboard,
    obj: ObjectDefinition,
    record: Mapping[str, Any],
    field_def: FieldDefinition,
    state: FormState,
    status_code: int = 200,
) -> Template:
    await _with_choices(dashboard, [field_def], state)
    return dashboard.page(
        "crm/_field_edit.html",
        status_code=status_code,
        obj=obj,
        record=record,
        field=field_def,
        form=state,
        label=present.field_label(field_def, dashboard.language),
        field_url=dashboard.url("o", obj.name, record["id"], "fields", field_def.name),
    )


def _slot_prefix(record_id: uuid.UUID, field_def: FieldDefinition) -> str:
    """Input ids of an inline edit: unique per record and field, since a table may hold several edits at once."""
    return f"e{record_id.hex[:12]}"


@get("/o/{object_name:str}/{record_id:uuid}/fields/{field_name:str}", name="field-show", cache=False)
async def field_show(
    dashboard: NamedDependency[Dashboard],
    object_name: FromPath[str],
    record_id: FromPath[uuid.UUID],
    field_name: FromPath[str],
) -> Template:
    obj = dashboard.object(object_name)
    field_def = _field(obj, field_name)
    record = await records.get_record(dashboard.connection, obj, record_id)
    return await _field_show(dashboard, obj, record, field_def)


@get("/o/{object_name:str}/{record_id:uuid}/fields/{field_name:str}/edit", name="field-edit", cache=False)
async def field_edit(
    dashboard: NamedDependency[Dashboard],
    object_name: FromPath[str],
    record_id: FromPath[uuid.UUID],
    field_name: FromPath[str],
) -> Template:
    obj = dashboard.object(object_name)
    field_def = _field(obj, field_name)
    record = await records.get_record(dashboard.connection, obj, record_id)
    draft = draft_of(field_def, record.get(field_def.name), dashboard.timezone)
    state = _state(dashboard, obj, draft, prefix=_slot_prefix(record_id, field_def))
    return await _field_form(dashboard, obj, record, field_def, state)


@post("/o/{object_name:str}/{record_id:uuid}/fields/{field_name:str}", name="field-save")
async def field_save(
    request: Request[Any, Any, Any],
    dashboard: NamedDependency[Dashboard],
    object_name: FromPath[str],
    record_id: FromPath[uuid.UUID],
    field_name: FromPath[str],
) -> Response[Any]:
    obj = dashboard.object(object_name)
    field_def = _field(obj, field_name)
    record = await records.get_record(dashboard.connection, obj, record_id)
    form = await request.form()
    parsed = parse_fields([field_def], form, dashboard.timezone)
    errors = await _problems(dashboard, obj, parsed, partial=True)
    if not errors:
        try:
            record = await records.update_record(
                dashboard.connection, obj, record_id, {field_def.name: parsed.data[field_def.name]}, dashboard.actor
            )
        except RecordInvalid as invalid:
            errors = _explained(invalid)
    if errors:
        state = _state(dashboard, obj, parsed.draft, prefix=_slot_prefix(record_id, field_def))
        state.errors = errors
        return await _field_form(dashboard, obj, record, field_def, state, status_code=422)
    response = await _field_show(dashboard, obj, record, field_def)
    label = present.field_label(field_def, dashboard.language)
    return _changed(response, _("%(field)s saved.") % {"field": label})


@get("/o/{object_name:str}/fields/{field_name:str}/options", name="relation-options", cache=False)
async def relation_options(
    request: Request[Any, Any, Any],
    dashboard: NamedDependency[Dashboard],
    object_name: FromPath[str],
    field_name: FromPath[str],
    q: FromQuery[str | None] = None,
) -> Template:
    """``<option>``s of a relation input for what was typed (the selected record, ``?<field>=<id>``, stays)."""
    obj = dashboard.object(object_name)
    field_def = _field(obj, field_name)
    if not target_of(field_def):
        raise NotFoundException("Not a relation field.")
    selected = str(request.query_params.get(field_def.name) or "") or None
    choices = await relation_choices(dashboard, field_def, selected=selected, query=(q or "")[:200])
    chosen = selected or ""
    if q and len(q.strip()) >= 2:
        hits = [choice for choice in choices if choice[0] != selected]
        kept = [choice for choice in choices if choice[0] == selected]
        choices = hits + kept
        chosen = hits[0][0] if hits else chosen
    return dashboard.page("crm/_field_options.html", choices=choices, chosen=chosen)


# --- notes and tasks ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Panel:
    """Notes or tasks on a record page: the same add / show / edit / save cycle, each with its own object, fields,
    templates and rules."""

    object_name: str
    field_names: tuple[str, ...]
    kind: str
    """``note`` or ``task``: the templates' names (``crm/_record_<kind>s.html``, ``_record_<kind>.html``,
    ``_record_<kind>_edit.html``), their context keys and the forms' prefixes."""
    view: Callable[[Dashboard, Mapping[str, Any]], Any]
    needs_text: bool = False
    """A note with nothing written in it is refused."""
    starts_as_todo: bool = False
    """A new task's status is ``todo`` unless the form says otherwise (and the status field has that option)."""

    def object(self, dashboard: Dashboard) -> ObjectDefinition:
        return dashboard.object(self.object_name)

    def fields(self, obj: ObjectDefinition) -> list[FieldDefinition]:
        return [found for name in self.field_names if (found := obj.field(name)) is not None]

    def defaults(self, obj: ObjectDefinition) -> dict[str, Any]:
        status = obj.field("status")
        if self.starts_as_todo and status is not None and any(o.value == "todo" for o in status.options):
            return {"status": "todo"}
        return {}


_NOTES = _Panel(NOTES, ("title", "body"), "note", note_view, needs_text=True)
_TASKS = _Panel(TASKS, ("title", "due_at", "status"), "task", task_view, starts_as_todo=True)


def _new_form(dashboard: Dashboard, panel: _Panel, draft: dict[str, Any] | None = None) -> FormState | None:
    """The record page's empty "add a note/task" form (None when the tenant has no such object)."""
    linked = dashboard.catalogue.get(panel.object_name)
    if linked is None:
        return None
    base = draft_of_record(panel.fields(linked), None, dashboard.timezone)
    for name, value in panel.defaults(linked).items():
        base[name] = base.get(name) or value
    state = _state(dashboard, linked, {**base, **(draft or {})}, prefix=f"new-{panel.kind}")
    state.blank = draft is None
    return state


def _new_inputs(dashboard: Dashboard, kind: str, form: FormState | None) -> Markup:
    """The inputs of the "add a note/task" form (templates/crm/_record_new_inputs.html). A blank form is the same on
    every record page of a tenant, language and catalogue: rendered once per process."""
    panel = _PANELS[kind]
    linked = dashboard.catalogue.get(panel.object_name)
    if form is None or linked is None:
        return Markup("")
    key = (kind, dashboard.tenant.slug, dashboard.language, dashboard.timezone)
    html = _blank_inputs.get(linked, key) if form.blank else None
    if html is None:
        fields = panel.fields(linked)
        html = dashboard.render_fragment("crm/_record_new_inputs.html", kind=kind, fields=fields, form=form)
        if form.blank:
            _blank_inputs.put(linked, key, html)
    return html


_PANELS = {panel.kind: panel for panel in (_NOTES, _TASKS)}
_blank_inputs: Remembered[Markup] = Remembered(1000)


def _item_prefix(panel: _Panel, item_id: uuid.UUID) -> str:
    return f"{panel.kind}-{item_id.hex[:12]}"


async def _section(
    dashboard: Dashboard,
    panel: _Panel,
    obj: ObjectDefinition,
    record: Mapping[str, Any],
    form: FormState | None,
    status_code: int = 200,
) -> Template:
    found = await panels(dashboard, obj, record)
    return dashboard.page(
        f"crm/_record_{panel.kind}s.html",
        status_code=status_code,
        **_page_context(dashboard, obj, record),
        **{f"{panel.kind}s": getattr(found, f"{panel.kind}s"), f"{panel.kind}_form": form},
    )


async def _item(
    dashboard: Dashboard,
    panel: _Panel,
    obj: ObjectDefinition,
    record: Mapping[str, Any],
    item: Mapping[str, Any],
    *,
    editing: FormState | None = None,
    status_code: int = 200,
) -> Template:
    template = f"crm/_record_{panel.kind}_edit.html" if editing is not None else f"crm/_record_{panel.kind}.html"
    return dashboard.page(
        template,
        status_code=status_code,
        **_page_context(dashboard, obj, record),
        **{panel.kind: panel.view(dashboard, item)},
        form=editing,
    )


async def _form_problems(
    dashboard: Dashboard, panel: _Panel, linked: ObjectDefinition, parsed: Parsed, *, partial: bool
) -> dict[str, str]:
    errors = await _problems(dashboard, linked, parsed, partial=partial)
    if panel.needs_text and not errors and not any(value for value in parsed.data.values()):
        errors = {"body": _("Write something first.")}
    return errors


async def _add_item(
    request: Request[Any, Any, Any],
    dashboard: Dashboard,
    panel: _Panel,
    object_name: str,
    record_id: uuid.UUID,
    added: str,
) -> Response[Any]:
    """Add a note/task to the record: its section re-rendered, with a fresh form, or with the form's errors (422)."""
    obj = dashboard.object(object_name)
    record = await records.get_record(dashboard.connection, obj, record_id)
    linked = panel.object(dashboard)
    parsed = parse_fields(panel.fields(linked), await request.form(), dashboard.timezone)
    for name, value in panel.defaults(linked).items():
        if parsed.data.get(name) is None:
            parsed.data[name] = value
    errors = await _form_problems(dashboard, panel, linked, parsed, partial=False)
    if not errors:
        try:
            await add_linked(dashboard, obj, record_id, linked, parsed.data)
        except RecordInvalid as invalid:
            errors = _explained(invalid)
    if errors:
        state = _new_form(dashboard, panel, parsed.draft)
        assert state is not None
        state.errors = errors
        return await _section(dashboard, panel, obj, record, state, status_code=422)
    return _changed(await _section(dashboard, panel, obj, record, _new_form(dashboard, panel)), added)


async def _show_item(
    dashboard: Dashboard, panel: _Panel, object_name: str, record_id: uuid.UUID, item_id: uuid.UUID, *, edit: bool
) -> Template:
    obj = dashboard.object(object_name)
    linked = panel.object(dashboard)
    item = await linked_record(dashboard, obj, record_id, linked, item_id)
    record = await records.get_record(dashboard.connection, obj, record_id)
    editing = None
    if edit:
        draft = draft_of_record(panel.fields(linked), item, dashboard.timezone)
        editing = _state(dashboard, linked, draft, prefix=_item_prefix(panel, item_id))
    return await _item(dashboard, panel, obj, record, item, editing=editing)


async def _save_item(
    request: Request[Any, Any, Any],
    dashboard: Dashboard,
    panel: _Panel,
    object_name: str,
    record_id: uuid.UUID,
    item_id: uuid.UUID,
    saved: str,
) -> Response[Any]:
    obj = dashboard.object(object_name)
    linked = panel.object(dashboard)
    item = await linked_record(dashboard, obj, record_id, linked, item_id)
    record = await records.get_record(dashboard.connection, obj, record_id)
    parsed = parse_fields(panel.fields(linked), await request.form(), dashboard.timezone)
    errors = await _form_problems(dashboard, panel, linked, parsed, partial=True)
    if not errors:
        try:
            item = await records.update_record(dashboard.connection, linked, item_id, parsed.data, dashboard.actor)
        except RecordInvalid as invalid:
            errors = _explained(invalid)
    if errors:
        state = _state(dashboard, linked, parsed.draft, prefix=_item_prefix(panel, item_id))
        state.errors = errors
        return await _item(dashboard, panel, obj, record, item, editing=state, status_code=422)
    return toast(await _item(dashboard, panel, obj, record, item), saved)


@post("/o/{object_name:str}/{record_id:uuid}/notes", name="record-note-add")
async def note_add(
    request: Request[Any, Any, Any],
    dashboard: NamedDependency[Dashboard],
    object_name: FromPath[str],
    record_id: FromPath[uuid.UUID],
) -> Response[Any]:
    return await _add_item(request, dashboard, _NOTES, object_name, record_id, _("Note added."))


@get("/o/{object_name:str}/{record_id:uuid}/notes/{note_id:uuid}", name="record-note", cache=False)
async def note_show(
    dashboard: NamedDependency[Dashboard],
    object_name: FromPath[str],
    record_id: FromPath[uuid.UUID],
    note_id: FromPath[uuid.UUID],
) -> Template:
    return await _show_item(dashboard, _NOTES, object_name, record_id, note_id, edit=False)


@get("/o/{object_name:str}/{record_id:uuid}/notes/{note_id:uuid}/edit", name="record-note-edit", cache=False)
async def note_edit(
    dashboard: NamedDependency[Dashboard],
    object_name: FromPath[str],
    record_id: FromPath[uuid.UUID],
    note_id: FromPath[uuid.UUID],
) -> Template:
    return await _show_item(dashboard, _NOTES, object_name, record_id, note_id, edit=True)


@post("/o/{object_name:str}/{record_id:uuid}/notes/{note_id:uuid}", name="record-note-save")
async def note_save(
    request: Request[Any, Any, Any],
    dashboard: NamedDependency[Dashboard],
    object_name: FromPath[str],
    record_id: FromPath[uuid.UUID],
    note_id: FromPath[uuid.UUID],
) -> Response[Any]:
    return await _save_item(request, dashboard, _NOTES, object_name, record_id, note_id, _("Note saved."))


@post("/o/{object_name:str}/{record_id:uuid}/tasks", name="record-task-add")
async def task_add(
    request: Request[Any, Any, Any],
    dashboard: NamedDependency[Dashboard],
    object_name: FromPath[str],
    record_id: FromPath[uuid.UUID],
) -> Response[Any]:
    return await _add_item(request, dashboard, _TASKS, object_name, record_id, _("Task added."))


@get("/o/{object_name:str}/{record_id:uuid}/tasks/{task_id:uuid}", name="record-task", cache=False)
async def task_show(
    dashboard: NamedDependency[Dashboard],
    object_name: FromPath[str],
    record_id: FromPath[uuid.UUID],
    task_id: FromPath[uuid.UUID],
) -> Template:
    return await _show_item(dashboard, _TASKS, object_name, record_id, task_id, edit=False)


@get("/o/{object_name:str}/{record_id:uuid}/tasks/{task_id:uuid}/edit", name="record-task-edit", cache=False)
async def task_edit(
    dashboard: NamedDependency[Dashboard],
    object_name: FromPath[str],
    record_id: FromPath[uuid.UUID],
    task_id: FromPath[uuid.UUID],
) -> Template:
    return await _show_item(dashboard, _TASKS, object_name, record_id, task_id, edit=True)


@post("/o/{object_name:str}/{record_id:uuid}/tasks/{task_id:uuid}", name="record-task-save")
async def task_save(
    request: Request[Any, Any, Any],
    dashboard: NamedDependency[Dashboard],
    object_name: FromPath[str],
    record_id: FromPath[uuid.UUID],
    task_id: FromPath[uuid.UUID],
) -> Response[Any]:
    return await _save_item(request, dashboard, _TASKS, object_name, record_id, task_id, _("Task saved."))


@post("/o/{object_name:str}/{record_id:uuid}/tasks/{task_id:uuid}/done", name="record-task-done")
async def task_done(
    request: Request[Any, Any, Any],
    dashboard: NamedDependency[Dashboard],
    object_name: FromPath[str],
    record_id: FromPath[uuid.UUID],
    task_id: FromPath[uuid.UUID],
) -> Response[Any]:
    """The task's checkbox: ticked marks it done, unticked opens it again."""
    obj = dashboard.object(object_name)
    tasks = _TASKS.object(dashboard)
    task = await linked_record(dashboard, obj, record_id, tasks, task_id)
    record = await records.get_record(dashboard.connection, obj, record_id)
    done = "true" in (await request.form()).getall("done", [])
    if (task.get("status") == "done") != done:
        task = await records.update_record(
            dashboard.connection, tasks, task_id, {"status": "done" if done else "todo"}, dashboard.actor
        )
    message = _("Task completed.") if done else _("Task opened again.")
    return toast(await _item(dashboard, _TASKS, obj, record, task), message)


RECORD_PAGE_ROUTES: list[Any] = [
    record_new,
    record_create,
    record_page,
    record_header,
    record_timeline,
    record_edit,
    record_update,
    record_delete,
    field_show,
    field_edit,
    field_save,
    relation_options,
    note_add,
    note_show,
    note_edit,
    note_save,
    task_add,
    task_show,
    task_edit,
    task_save,
    task_done,
]
