"""Settings: objects and fields. Owners and admins add custom objects and fields, relabel any of them and remove
custom ones. HTTP only: app/crm/schema_changes.py does each change (DDL and metadata in one transaction) and says
why it refuses one; a refused form comes back with the reason and everything that was typed (422)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from litestar import get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from app.crm import schema_changes
from app.crm.fields import Color, FieldDefinition, FieldType, InvalidFieldDefinition, SelectOption
from app.crm.metadata import ObjectDefinition
from app.crm.pages.dashboard import Dashboard
from app.crm.pages.settings_common import FORM_LIMIT, done, refresh_catalogue, require_manager, snake_case
from app.crm.schema_changes import FieldChanges, NewObject, ObjectChanges, SchemaChangeRefused, SchemaConflict
from app.lib.i18n import gettext as _
from app.lib.i18n import lazy

__all__ = ["FIELD_TYPE_LABELS", "SCHEMA_ROUTES", "parse_options"]

FIELD_TYPE_LABELS: dict[str, str] = {
    FieldType.TEXT: lazy("Text"),
    FieldType.NUMBER: lazy("Number"),
    FieldType.CURRENCY: lazy("Amount of money"),
    FieldType.PHONES: lazy("Phone numbers"),
    FieldType.EMAILS: lazy("E-mail addresses"),
    FieldType.LINKS: lazy("Links"),
    FieldType.FULL_NAME: lazy("Full name"),
    FieldType.ADDRESS: lazy("Address"),
    FieldType.SELECT: lazy("Choice from a list"),
    FieldType.MULTI_SELECT: lazy("Several choices from a list"),
    FieldType.BOOLEAN: lazy("Yes or no"),
    FieldType.DATE: lazy("Date"),
    FieldType.DATETIME: lazy("Date and time"),
    FieldType.RATING: lazy("Rating"),
    FieldType.RICH_TEXT: lazy("Formatted text"),
    FieldType.RELATION: lazy("Link to a record"),
    FieldType.JSON: lazy("JSON data"),
}
"""How each field type is named on the page (translated where shown)."""

_UNIQUE_TYPES: tuple[FieldType, ...] = (FieldType.TEXT, FieldType.NUMBER, FieldType.PHONES, FieldType.EMAILS)
_UNIQUE_TYPES += (FieldType.LINKS, FieldType.DATE, FieldType.DATETIME, FieldType.RELATION)
_OPTION_TYPES = (FieldType.SELECT, FieldType.MULTI_SELECT)
_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")
_PALETTE = list(Color)


@dataclass
class ObjectForm:
    name: str = ""
    singular: str = ""
    label_singular_en: str = ""
    label_singular_ar: str = ""
    label_plural_en: str = ""
    label_plural_ar: str = ""


@dataclass
class FieldForm:
    name: str = ""
    type: str = "text"
    label_en: str = ""
    label_ar: str = ""
    options: str = ""
    target: str = ""
    required: str = ""
    unique: str = ""


@dataclass
class EditFieldForm:
    label_en: str = ""
    label_ar: str = ""
    required: str = ""


@dataclass
class Problems:
    """What went wrong with one form: reasons by input name (``form`` for the form as a whole)."""

    form: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.errors)


# -- objects -------------------------------------------------------------------------------------------------------


@get("/settings/objects", name="settings-objects", cache=False)
async def objects_page(dashboard: NamedDependency[Dashboard]) -> Template:
    require_manager(dashboard)
    return _objects(dashboard, ObjectForm())


@post("/settings/objects", request_max_body_size=FORM_LIMIT)
async def create_object(dashboard: NamedDependency[Dashboard], data: URLEncodedBody[ObjectForm]) -> Template | Redirect:
    require_manager(dashboard)
    form = ObjectForm(**{key: value.strip() for key, value in vars(data).items()})
    form.name = form.name or snake_case(form.label_plural_en, fallback="")
    form.singular = form.singular or snake_case(form.label_singular_en, fallback="")
    errors = _object_errors(form, dashboard)
    if not errors:
        try:
            new = NewObject(**vars(form))
            await schema_changes.create_object(dashboard.connection, dashboard.tenant, new, actor=_actor(dashboard))
        except (SchemaChangeRefused, SchemaConflict) as error:
            errors["form"] = error.reason
    if errors:
        return _objects(dashboard, form, errors=errors, status_code=422)
    await refresh_catalogue(dashboard)
    url = dashboard.url("settings", "objects", form.name)
    message = _("%(label)s was created.") % {"label": _label(dashboard, form.label_plural_en, form.label_plural_ar)}
    return await done(dashboard, url, lambda: _object_page(dashboard, dashboard.object(form.name)), message)


def _object_errors(form: ObjectForm, dashboard: Dashboard) -> dict[str, str]:
    errors: dict[str, str] = {}
    for key in ("label_singular_en", "label_singular_ar", "label_plural_en", "label_plural_ar"):
        errors.update(_label_error(key, getattr(form, key)))
    for key in ("name", "singular"):
        value = getattr(form, key)
        if not _NAME.fullmatch(value) or len(value) > 60:
            errors[key] = _("Use lower-case English letters (a-z), digits and _, starting with a letter.")
    taken = form.name in schema_changes.RESERVED_OBJECT_NAMES or dashboard.catalogue.get(form.name) is not None
    if "name" not in errors and taken:
        errors["name"] = _("This name is already taken; choose another.")
    return errors


def _objects(
    dashboard: Dashboard, form: ObjectForm, *, errors: dict[str, str] | None = None, status_code: int = 200
) -> Template:
    return dashboard.page(
        "crm/settings/objects.html",
        status_code=status_code,
        section="objects",
        objects=list(dashboard.catalogue.objects.values()),
        form=form,
        errors=errors or {},
    )


@get("/settings/objects/{object_name:str}", name="settings-object", cache=False)
async def object_page(dashboard: NamedDependency[Dashboard], object_name: FromPath[str]) -> Template:
    require_manager(dashboard)
    return await _object_page(dashboard, dashboard.object(object_name))


@post("/settings/objects/{object_name:str}/labels", request_max_body_size=FORM_LIMIT)
async def relabel_object(
    dashboard: NamedDependency[Dashboard], object_name: FromPath[str], data: URLEncodedBody[ObjectForm]
) -> Template | Redirect:
    require_manager(dashboard)
    obj = dashboard.object(object_name)
    labels = {key: getattr(data, key).strip() for key in _OBJECT_LABELS}
    errors: dict[str, str] = {}
    for key, value in labels.items():
        errors.update(_label_error(key, value))
    if not errors:
        try:
            await schema_changes.change_object(
                dashboard.connection, dashboard.tenant, obj.name, ObjectChanges(**labels), actor=_actor(dashboard)
            )
        except (SchemaChangeRefused, SchemaConflict) as error:
            errors["form"] = error.reason
    if errors:
        labels_form = ObjectForm(name=obj.name, singular=obj.singular, **labels)
        return await _object_page(dashboard, obj, labels_form=labels_form, labels_errors=errors, status_code=422)
    await refresh_catalogue(dashboard)
    url = dashboard.url("settings", "objects", obj.name)
    return await done(
        dashboard, url, lambda: _object_page(dashboard, dashboard.object(obj.name)), _("The names were saved.")
    )


@dataclass
class ConfirmForm:
    confirm: str = ""


@post("/settings/objects/{object_name:str}/remove", request_max_body_size=4 * 1024)
async def remove_object(
    dashboard: NamedDependency[Dashboard], object_name: FromPath[str], data: URLEncodedBody[ConfirmForm]
) -> Template | Redirect:
    """Removing a custom object drops its records: the person types its API name to confirm."""
    require_manager(dashboard)
    obj = dashboard.object(object_name)
    reason = ""
    if data.confirm.strip() != obj.name:
        reason = _("Type %(name)s to confirm.") % {"name": obj.name}
    else:
        try:
            await schema_changes.remove_object(
                dashboard.connection, dashboard.tenant, obj.name, actor=_actor(dashboard)
            )
        except (SchemaChangeRefused, SchemaConflict) as error:
            reason = error.reason
    if reason:
        return await _object_page(dashboard, obj, object_error=reason, status_code=422)
    await refresh_catalogue(dashboard)
    message = _("%(label)s was removed.") % {"label": _label(dashboard, obj.label_plural_en, obj.label_plural_ar)}
    url = dashboard.url("settings", "objects")
    return await done(dashboard, url, lambda: _async(_objects(dashboard, ObjectForm())), message)


# -- fields ----------------------------------------------------------------------------------------------------------


@post("/settings/objects/{object_name:str}/fields", request_max_body_size=FORM_LIMIT)
async def add_field(
    dashboard: NamedDependency[Dashboard], object_name: FromPath[str], data: URLEncodedBody[FieldForm]
) -> Template | Redirect:
    require_manager(dashboard)
    obj = dashboard.object(object_name)
    form = FieldForm(**{key: value if key == "options" else value.strip() for key, value in vars(data).items()})
    form.name = form.name or snake_case(form.label_en, fallback="field")
    definition, errors = _field_definition(form, obj, dashboard)
    if definition is not None:
        try:
            await schema_changes.add_field(
                dashboard.connection, dashboard.tenant, obj.name, definition, actor=_actor(dashboard)
            )
        except (SchemaChangeRefused, SchemaConflict) as error:
            errors["form"] = error.reason
    if errors or definition is None:
        return await _object_page(dashboard, obj, field_form=form, field_errors=errors, status_code=422)
    await refresh_catalogue(dashboard)
    url = dashboard.url("settings", "objects", obj.name)
    message = _("The field %(label)s was added.") % {"label": _label(dashboard, form.label_en, form.label_ar)}
    return await done(dashboard, url, lambda: _object_page(dashboard, dashboard.object(obj.name)), message)


def _field_definition(
    form: FieldForm, obj: ObjectDefinition, dashboard: Dashboard
) -> tuple[FieldDefinition | None, dict[str, str]]:
    """The field the form describes, or the reason of each bad input (checked here first, so the person reads
    them in their language; the engine has the last word)."""
    errors: dict[str, str] = {}
    errors.update(_label_error("label_en", form.label_en))
    errors.update(_label_error("label_ar", form.label_ar))
    if not _NAME.fullmatch(form.name):
        errors["name"] = _("Use lower-case English letters (a-z), digits and _, starting with a letter.")
    elif obj.field(form.name) is not None:
        errors["name"] = _("%(object)s already has a field named %(name)s.") % {
            "object": _label(dashboard, obj.label_plural_en, obj.label_plural_ar),
            "name": form.name,
        }
    if form.type not in FIELD_TYPE_LABELS:
        errors["type"] = _("Choose a type from the list.")
        return None, errors
    kind = FieldType(form.type)
    options: tuple[SelectOption, ...] = ()
    if kind in _OPTION_TYPES:
        options, reason = parse_options(form.options)
        if reason:
            errors["options"] = reason
    settings: dict[str, Any] = {}
    if kind == FieldType.RELATION:
        if dashboard.catalogue.get(form.target) is None:
            errors["target"] = _("Choose which object the field links to.")
        settings["target"] = form.target
    unique = bool(form.unique) and kind in _UNIQUE_TYPES
    if form.unique and kind not in _UNIQUE_TYPES:
        errors["unique"] = _("A field of this type cannot be unique.")
    if errors:
        return None, errors
    try:
        definition = FieldDefinition(
            name=form.name,
            type=kind,
            label_en=form.label_en,
            label_ar=form.label_ar,
            required=bool(form.required),
            unique=unique,
            options=options,
            settings=settings,
        )
    except InvalidFieldDefinition as error:
        return None, {"form": str(error)}
    return definition, errors


def parse_options(text: str) -> tuple[tuple[SelectOption, ...], str]:
    """Options typed one per line as ``English | Arabic`` (a colour may follow: ``| green``). Values are made
    from the English names; colours follow the palette when none is given. Returns (options, problem)."""
    options: list[SelectOption] = []
    taken: set[str] = set()
    for number, line in enumerate((line.strip() for line in text.splitlines()), start=1):
        if not line:
            continue
        parts = [part.strip() for part in line.split("|")]
        if len(parts) < 2 or not parts[0] or not parts[1] or len(parts) > 3:
            return (), _("Line %(n)s: write the English name, a |, then the Arabic name.") % {"n": number}
        color = parts[2].lower() if len(parts) == 3 and parts[2] else _PALETTE[len(options) % len(_PALETTE)]
        if color not in set(Color):
            return (), _("Line %(n)s: %(color)s is not one of the colours.") % {"n": number, "color": color}
        value = unique_value(snake_case(parts[0], fallback="option"), taken)
        taken.add(value)
        try:
            options.append(SelectOption(value=value, label_en=parts[0], label_ar=parts[1], color=Color(color)))
        except InvalidFieldDefinition as error:
            return (), _("Line %(n)s: %(reason)s") % {"n": number, "reason": str(error)}
    if not options:
        return (), _("Write at least one option, one per line.")
    return tuple(options), ""


def unique_value(value: str, taken: set[str]) -> str:
    """``value``, or ``value_2``, ``value_3``... if it is taken."""
    candidate, number = value, 1
    while candidate in taken:
        number += 1
        candidate = f"{value[:55]}_{number}"
    return candidate


@post("/settings/objects/{object_name:str}/fields/{field_name:str}/edit", request_max_body_size=FORM_LIMIT)
async def edit_field(
    dashboard: NamedDependency[Dashboard],
    object_name: FromPath[str],
    field_name: FromPath[str],
    data: URLEncodedBody[EditFieldForm],
) -> Template | Redirect:
    """New labels for any field; ``required`` for custom fields only (the engine refuses it on standard ones)."""
    require_manager(dashboard)
    obj = dashboard.object(object_name)
    current = _existing_field(obj, field_name)
    custom = await _custom_field_names(dashboard, obj)
    form = EditFieldForm(label_en=data.label_en.strip(), label_ar=data.label_ar.strip(), required=data.required)
    errors = {**_label_error("label_en", form.label_en), **_label_error("label_ar", form.label_ar)}
    if not errors:
        required = bool(form.required) if current.name in custom else None
        changes = FieldChanges(label_en=form.label_en, label_ar=form.label_ar, required=required)
        try:
            await schema_changes.change_field(
                dashboard.connection, dashboard.tenant, obj.name, current.name, changes, actor=_actor(dashboard)
            )
        except (SchemaChangeRefused, SchemaConflict) as error:
            errors["form"] = error.reason
    if errors:
        return await _object_page(
            dashboard, obj, edit_name=current.name, edit_form=form, edit_errors=errors, status_code=422
        )
    await refresh_catalogue(dashboard)
    url = dashboard.url("settings", "objects", obj.name)
    message = _("The field %(label)s was saved.") % {"label": _label(dashboard, form.label_en, form.label_ar)}
    return await done(dashboard, url, lambda: _object_page(dashboard, dashboard.object(obj.name)), message)


@post("/settings/objects/{object_name:str}/fields/{field_name:str}/remove", request_max_body_size=4 * 1024)
async def remove_field(
    dashboard: NamedDependency[Dashboard], object_name: FromPath[str], field_name: FromPath[str]
) -> Template | Redirect:
    """Only custom fields go, with their values (the page asks first); standard fields are refused."""
    require_manager(dashboard)
    obj = dashboard.object(object_name)
    current = _existing_field(obj, field_name)
    try:
        await schema_changes.remove_field(
            dashboard.connection, dashboard.tenant, obj.name, current.name, actor=_actor(dashboard)
        )
    except (SchemaChangeRefused, SchemaConflict) as error:
        return await _object_page(dashboard, obj, remove_name=current.name, remove_error=error.reason, status_code=422)
    await refresh_catalogue(dashboard)
    url = dashboard.url("settings", "objects", obj.name)
    message = _("The field %(label)s was removed.") % {"label": _label(dashboard, current.label_en, current.label_ar)}
    return await done(dashboard, url, lambda: _object_page(dashboard, dashboard.object(obj.name)), message)


# -- the object page ---------------------------------------------------------------------------------------------


async def _object_page(
    dashboard: Dashboard,
    obj: ObjectDefinition,
    *,
    labels_form: ObjectForm | None = None,
    labels_errors: dict[str, str] | None = None,
    field_form: FieldForm | None = None,
    field_errors: dict[str, str] | None = None,
    edit_name: str = "",
    edit_form: EditFieldForm | None = None,
    edit_errors: dict[str, str] | None = None,
    remove_name: str = "",
    remove_error: str = "",
    object_error: str = "",
    status_code: int = 200,
) -> Template:
    return dashboard.page(
        "crm/settings/object.html",
        status_code=status_code,
        section="objects",
        obj=obj,
        custom=await _custom_field_names(dashboard, obj),
        type_labels=FIELD_TYPE_LABELS,
        option_types=[str(kind) for kind in _OPTION_TYPES],
        unique_types=[str(kind) for kind in _UNIQUE_TYPES],
        palette=_PALETTE,
        targets=[target for target in dashboard.catalogue.objects.values()],
        labels_form=labels_form
        or ObjectForm(name=obj.name, singular=obj.singular, **{key: getattr(obj, key) for key in _OBJECT_LABELS}),
        labels_errors=labels_errors or {},
        field_form=field_form or FieldForm(),
        field_errors=field_errors or {},
        edit_name=edit_name,
        edit_form=edit_form,
        edit_errors=edit_errors or {},
        remove_name=remove_name,
        remove_error=remove_error,
        object_error=object_error,
    )


_OBJECT_LABELS = ("label_singular_en", "label_singular_ar", "label_plural_en", "label_plural_ar")


async def _custom_field_names(dashboard: Dashboard, obj: ObjectDefinition) -> set[str]:
    """Which fields of ``obj`` were added by the tenant (only those can be removed or made required)."""
    described = await schema_changes.describe_object(dashboard.connection, obj.name)
    return {entry["name"] for entry in described["fields"] if entry["is_custom"]}


def _existing_field(obj: ObjectDefinition, name: str) -> FieldDefinition:
    found = obj.field(name)
    if found is None:
        raise NotFoundException("No such field.")
    return found


def _label_error(key: str, value: str) -> Mapping[str, str]:
    if not value:
        return {key: _("Write a name.")}
    if len(value) > 100:
        return {key: _("At most 100 characters.")}
    return {}


def _label(dashboard: Dashboard, english: str, arabic: str) -> str:
    return arabic if dashboard.language == "ar" else english


def _actor(dashboard: Dashboard) -> str:
    return f"user:{dashboard.member.email}"


async def _async(page: Template) -> Template:
    return page


SCHEMA_ROUTES: list[Any] = [
    objects_page,
    create_object,
    object_page,
    relabel_object,
    remove_object,
    add_field,
    edit_field,
    remove_field,
]
