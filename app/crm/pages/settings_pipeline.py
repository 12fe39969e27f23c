"""Settings: pipeline stages, which are the options of the deals' ``stage`` field, and likewise the options of any
select field (``?object=&field=``): add, rename in both languages, recolour, reorder, remove. HTTP only: each change
goes through app/crm/schema_changes.py (`change_field` with the new list of options; `remove_option`, which can
move the records of a removed option to another one in the same transaction)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from app.crm import schema_changes
from app.crm.fields import Color, FieldDefinition, FieldType, InvalidFieldDefinition, SelectOption
from app.crm.metadata import ObjectDefinition
from app.crm.pages.dashboard import Dashboard
from app.crm.pages.settings_common import FORM_LIMIT, done, refresh_catalogue, require_manager, snake_case
from app.crm.pages.settings_schema import unique_value
from app.crm.schema_changes import FieldChanges, SchemaChangeRefused, SchemaConflict
from app.lib.i18n import gettext as _
from app.lib.i18n import lazy, ngettext

__all__ = ["COLOR_LABELS", "PIPELINE_ROUTES"]

DEFAULT_OBJECT, DEFAULT_FIELD = "opportunities", "stage"

COLOR_LABELS: dict[str, str] = {
    Color.GRAY: lazy("Gray"),
    Color.RED: lazy("Red"),
    Color.ORANGE: lazy("Orange"),
    Color.YELLOW: lazy("Yellow"),
    Color.GREEN: lazy("Green"),
    Color.TURQUOISE: lazy("Turquoise"),
    Color.SKY: lazy("Sky blue"),
    Color.BLUE: lazy("Blue"),
    Color.PURPLE: lazy("Purple"),
    Color.PINK: lazy("Pink"),
}
"""The palette's colours as the page names them (translated where shown)."""

_OPTION_TYPES = (FieldType.SELECT, FieldType.MULTI_SELECT)


@dataclass
class OptionForm:
    label_en: str = ""
    label_ar: str = ""
    color: str = ""


@dataclass
class MoveForm:
    direction: str = ""


@dataclass
class RemoveForm:
    move_to: str = ""


@dataclass(frozen=True)
class Problem:
    """A refused change: which option row (``""`` for the add form, ``*`` for the list) and why, with what was
    typed."""

    where: str
    reason: str
    form: OptionForm | None = None


@get("/settings/pipeline", name="settings-pipeline", cache=False)
async def pipeline_page(
    dashboard: NamedDependency[Dashboard], object: FromQuery[str] = "", field: FromQuery[str] = ""
) -> Template:
    require_manager(dashboard)
    obj, select = _select_field(dashboard, object or DEFAULT_OBJECT, field or DEFAULT_FIELD, chosen=bool(object))
    return await _page(dashboard, obj, select)


@post("/settings/pipeline/{object_name:str}/{field_name:str}/options", request_max_body_size=FORM_LIMIT)
async def add_option(
    dashboard: NamedDependency[Dashboard],
    object_name: FromPath[str],
    field_name: FromPath[str],
    data: URLEncodedBody[OptionForm],
) -> Template | Redirect:
    require_manager(dashboard)
    obj, select = _select_field(dashboard, object_name, field_name)
    form = _clean(data)
    reason = _label_problem(form)
    if not reason:
        taken = {option.value for option in select.options}
        value = unique_value(snake_case(form.label_en, fallback="stage"), taken)
        try:
            option = SelectOption(
                value=value, label_en=form.label_en, label_ar=form.label_ar, color=_color(form, select)
            )
            return await _change(dashboard, obj, select, (*select.options, option), _("The stage was added."))
        except (SchemaChangeRefused, SchemaConflict) as error:
            reason = error.reason
        except InvalidFieldDefinition as error:
            reason = str(error)
    return await _page(dashboard, obj, select, problem=Problem("", reason, form), status_code=422)


@post("/settings/pipeline/{object_name:str}/{field_name:str}/options/{value:str}", request_max_body_size=FORM_LIMIT)
async def save_option(
    dashboard: NamedDependency[Dashboard],
    object_name: FromPath[str],
    field_name: FromPath[str],
    value: FromPath[str],
    data: URLEncodedBody[OptionForm],
) -> Template | Redirect:
    """A new name (English and Arabic) and colour for one option; its value, and so every record, stays."""
    require_manager(dashboard)
    obj, select = _select_field(dashboard, object_name, field_name)
    current = _option(select, value)
    form = _clean(data)
    reason = _label_problem(form)
    if not reason:
        try:
            changed = dataclasses.replace(
                current, label_en=form.label_en, label_ar=form.label_ar, color=_color(form, select)
            )
            options = tuple(changed if option.value == value else option for option in select.options)
            return await _change(dashboard, obj, select, options, _("The stage was saved."))
        except (SchemaChangeRefused, SchemaConflict) as error:
            reason = error.reason
        except InvalidFieldDefinition as error:
            reason = str(error)
    return await _page(dashboard, obj, select, problem=Problem(value, reason, form), status_code=422)


@post("/settings/pipeline/{object_name:str}/{field_name:str}/options/{value:str}/move", request_max_body_size=4 * 1024)
async def move_option(
    dashboard: NamedDependency[Dashboard],
    object_name: FromPath[str],
    field_name: FromPath[str],
    value: FromPath[str],
    data: URLEncodedBody[MoveForm],
) -> Template | Redirect:
    """One place up or down (the keyboard way to reorder; dragging posts the whole order instead)."""
    require_manager(dashboard)
    obj, select = _select_field(dashboard, object_name, field_name)
    _option(select, value)
    if data.direction not in ("up", "down"):
        reason = _("Choose up or down.")
        return await _page(dashboard, obj, select, problem=Problem(value, reason), status_code=422)
    order = [option.value for option in select.options]
    index = order.index(value)
    other = index - 1 if data.direction == "up" else index + 1
    if 0 <= other < len(order):
        order[index], order[other] = order[other], order[index]
    return await _reorder(dashboard, obj, select, order)


@post("/settings/pipeline/{object_name:str}/{field_name:str}/order", request_max_body_size=FORM_LIMIT)
async def order_options(
    request: Request[Any, Any, Any],
    dashboard: NamedDependency[Dashboard],
    object_name: FromPath[str],
    field_name: FromPath[str],
) -> Template | Redirect:
    """The whole order at once (``order`` once per option, first to last), as dragging a stage sends it."""
    require_manager(dashboard)
    obj, select = _select_field(dashboard, object_name, field_name)
    order = [str(value) for value in (await request.form()).getall("order", [])]
    if sorted(order) != sorted(option.value for option in select.options):
        reason = _("The stages changed meanwhile; here they are as they are now.")
        return await _page(dashboard, obj, select, problem=Problem("*", reason), status_code=422)
    return await _reorder(dashboard, obj, select, order)


@post(
    "/settings/pipeline/{object_name:str}/{field_name:str}/options/{value:str}/remove",
    request_max_body_size=4 * 1024,
)
async def remove_option(
    dashboard: NamedDependency[Dashboard],
    object_name: FromPath[str],
    field_name: FromPath[str],
    value: FromPath[str],
    data: URLEncodedBody[RemoveForm],
) -> Template | Redirect:
    """Remove an option nobody uses; one that records use only with ``move_to``, another option those records
    move to first (one transaction: they all move and it goes, or nothing changes)."""
    require_manager(dashboard)
    obj, select = _select_field(dashboard, object_name, field_name)
    current = _option(select, value)
    move_to = data.move_to.strip() or None
    try:
        await schema_changes.remove_option(
            dashboard.connection,
            dashboard.tenant,
            obj.name,
            select.name,
            current.value,
            move_to=move_to,
            actor=_actor(dashboard),
            record_actor=dashboard.actor,
        )
    except schema_changes.OptionInUse as error:
        count = sum(error.counts.values())
        reason = ngettext(
            "%(num)s record uses this stage: choose a stage to move it to first.",
            "%(num)s records use this stage: choose a stage to move them to first.",
            count,
        ) % {"num": count}
        return await _page(dashboard, obj, select, problem=Problem(value, reason), status_code=422)
    except (SchemaChangeRefused, SchemaConflict) as error:
        return await _page(dashboard, obj, select, problem=Problem(value, error.reason), status_code=422)
    await refresh_catalogue(dashboard)
    label = current.label_ar if dashboard.language == "ar" else current.label_en
    return await _done(dashboard, obj, select.name, _("The stage %(label)s was removed.") % {"label": label})


# -- helpers ------------------------------------------------------------------------------------------------------


async def _reorder(
    dashboard: Dashboard, obj: ObjectDefinition, select: FieldDefinition, order: Sequence[str]
) -> Template | Redirect:
    by_value = {option.value: option for option in select.options}
    options = tuple(by_value[value] for value in order)
    if options == select.options:
        return await _page(dashboard, obj, select)
    try:
        return await _change(dashboard, obj, select, options, _("The order was saved."))
    except (SchemaChangeRefused, SchemaConflict) as error:
        return await _page(dashboard, obj, select, problem=Problem("*", error.reason), status_code=422)


async def _change(
    dashboard: Dashboard,
    obj: ObjectDefinition,
    select: FieldDefinition,
    options: tuple[SelectOption, ...],
    message: str,
) -> Template | Redirect:
    await schema_changes.change_field(
        dashboard.connection,
        dashboard.tenant,
        obj.name,
        select.name,
        FieldChanges(options=options),
        actor=_actor(dashboard),
    )
    await refresh_catalogue(dashboard)
    return await _done(dashboard, obj, select.name, message)


async def _done(dashboard: Dashboard, obj: ObjectDefinition, field_name: str, message: str) -> Template | Redirect:
    url = _page_url(dashboard, obj.name, field_name)

    async def render() -> Template:
        fresh, select = _select_field(dashboard, obj.name, field_name)
        return await _page(dashboard, fresh, select)

    return await done(dashboard, url, render, message)


def _page_url(dashboard: Dashboard, object_name: str, field_name: str) -> str:
    url = dashboard.url("settings", "pipeline")
    if (object_name, field_name) == (DEFAULT_OBJECT, DEFAULT_FIELD):
        return url
    return f"{url}?object={object_name}&field={field_name}"


def _select_field(
    dashboard: Dashboard, object_name: str, field_name: str, *, chosen: bool = True
) -> tuple[ObjectDefinition, FieldDefinition]:
    """The object and its select field, or a 404. Without a choice, the deals' stages, else the first select
    field there is (a tenant may have relabelled things, never removed the standard ones)."""
    obj = dashboard.catalogue.get(object_name)
    found = obj.field(field_name) if obj is not None else None
    if obj is not None and found is not None and found.type in _OPTION_TYPES:
        return obj, found
    if not chosen:
        for candidate, select in _select_fields(dashboard):
            return candidate, select
    raise NotFoundException("No such select field.")


def _select_fields(dashboard: Dashboard) -> list[tuple[ObjectDefinition, FieldDefinition]]:
    return [
        (obj, field)
        for obj in dashboard.catalogue.objects.values()
        for field in obj.fields
        if field.type in _OPTION_TYPES
    ]


def _option(select: FieldDefinition, value: str) -> SelectOption:
    for option in select.options:
        if option.value == value:
            return option
    raise NotFoundException("No such option.")


def _clean(data: OptionForm) -> OptionForm:
    return OptionForm(label_en=data.label_en.strip(), label_ar=data.label_ar.strip(), color=data.color.strip())


def _label_problem(form: OptionForm) -> str:
    if not form.label_en or not form.label_ar:
        return _("Write the stage's name in English and in Arabic.")
    if len(form.label_en) > 100 or len(form.label_ar) > 100:
        return _("A name has at most 100 characters.")
    if form.color and form.color not in COLOR_LABELS:
        return _("Choose a colour from the list.")
    return ""


def _color(form: OptionForm, select: FieldDefinition) -> Color:
    if form.color:
        return Color(form.color)
    palette = list(Color)
    return palette[len(select.options) % len(palette)]


def _actor(dashboard: Dashboard) -> str:
    return f"user:{dashboard.member.email}"


async def _page(
    dashboard: Dashboard,
    obj: ObjectDefinition,
    select: FieldDefinition,
    *,
    problem: Problem | None = None,
    status_code: int = 200,
) -> Template:
    counts = await schema_changes.option_counts(dashboard.connection, obj, select)
    return dashboard.page(
        "crm/settings/pipeline.html",
        status_code=status_code,
        section="pipeline",
        obj=obj,
        field=select,
        is_stages=(obj.name, select.name) == (DEFAULT_OBJECT, DEFAULT_FIELD),
        counts=counts,
        select_fields=_select_fields(dashboard),
        colors=COLOR_LABELS,
        problem=problem,
        base=dashboard.url("settings", "pipeline", obj.name, select.name),
        page_url=_page_url(dashboard, obj.name, select.name),
    )


PIPELINE_ROUTES: list[Any] = [
    pipeline_page,
    add_option,
    save_option,
    move_option,
    order_options,
    remove_option,
]
