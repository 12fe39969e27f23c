"""Custom fields and objects: tenant admins add, rename and remove fields and objects of their CRM.

Each field is real columns (by the rules of `app.crm.fields.columns`) and each custom object a real table named
``c_<api name>``, so a custom object never collides with a standard table. Every change is ONE transaction of the
tenant's database, as the tenant's own role (it owns its tables): the DDL and the metadata rows (``crm_objects``,
``crm_fields``) commit together or not at all.

Changes are serialised with ``pg_advisory_xact_lock`` on one constant key (each tenant has its own database, so
the lock is per tenant), and every rule is checked against the catalogue read *after* taking the lock, so two
concurrent changes never decide on the same stale picture. ``lock_timeout`` bounds the wait for the lock and for
the table (ALTER TABLE waits for running queries on it; a busy table answers `SchemaConflict`, try again).

Callers pass a connection of the tenant's pool (`app.crm.services.crm_connection`), as every request does.
After a change this process forgets the tenant's cached catalogue and every prepared statement of the tenant's pool
(``reload_schema_state``); other processes see the new catalogue on their next request (its version changes).

Decisions worth knowing:
- Standard fields and objects only change labels, select options and (fields) searchable; only custom ones are
  renamed or removed, and only custom fields change ``required``. The built-in ``name`` field of a custom object
  counts as standard: it cannot be removed.
- ``required`` without a ``default`` is refused on a table that has rows (soft-deleted ones too); with a default,
  existing rows are filled with it. A ``default`` always fills existing rows. A unique field has no default.
- Removing a select option that records still use is refused with the count per option.
- Saved views follow: a renamed field is renamed in their filters, sorts, columns and grouping; a removed field
  leaves their columns and sorts, and is refused while a view filters or groups by it. Views, links and fields of
  a renamed or removed object follow through their foreign keys; timeline rows are renamed or removed here.
- Fields that feed search (``searchable``) change the search text of existing records: it is recomputed in the
  same transaction when they change, so a large table makes that change slower.
"""

from __future__ import annotations

import dataclasses
import json
import re
import uuid
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from app.admin import audit
from app.crm.fields import (
    FieldDefinition,
    FieldType,
    InvalidFieldDefinition,
    SelectOption,
    column_names,
    columns,
    quote_ident,
    validate,
)
from app.crm.metadata import Catalogue, ObjectDefinition, load_catalogue
from app.crm.queryable import query_fields
from app.crm.records import Actor
from app.crm.records import search_text_of as record_search_text
from app.crm.services import UnknownObject
from app.tenancy.repository import TenantRecord

__all__ = [
    "CUSTOM_TABLE_PREFIX",
    "MAX_CUSTOM_FIELDS",
    "MAX_CUSTOM_OBJECTS",
    "RESERVED_OBJECT_NAMES",
    "FieldChanges",
    "LimitReached",
    "NewObject",
    "ObjectChanges",
    "OptionInUse",
    "SchemaChangeRefused",
    "SchemaConflict",
    "UnknownField",
    "add_field",
    "change_field",
    "change_object",
    "create_object",
    "describe_object",
    "describe_objects",
    "field_changes_from_json",
    "field_from_json",
    "new_object_from_json",
    "object_changes_from_json",
    "option_counts",
    "remove_field",
    "remove_object",
    "remove_option",
]

MAX_CUSTOM_FIELDS = 100
"""Custom fields per object."""
MAX_CUSTOM_OBJECTS = 50
"""Custom objects per tenant."""
CUSTOM_TABLE_PREFIX = "c_"
STANDARD_OBJECTS = frozenset(
    {"people", "companies", "opportunities", "tasks", "notes", "products", "orders", "order_items"}
)
RESERVED_OBJECT_NAMES = STANDARD_OBJECTS | {"search", "metadata", "workspace", "views", "members", "batch"}
"""Standard objects, paths under /api/v1 that are not objects, and relation targets that are not objects."""

_MAX_IDENTIFIER = 63
_OBJECT_NAME = re.compile(r"[a-z][a-z0-9_]*")
_MAX_OBJECT_NAME = _MAX_IDENTIFIER - len(CUSTOM_TABLE_PREFIX)
_MAX_LABEL = 100
_LOCK_KEY = 0x5753_4348_454D_41  # "WSCHEMA": one key per database, so per tenant
_LOCK_TIMEOUT = "10s"
_REFRESH_BATCH = 1000
_NAME_FIELD = FieldDefinition(name="name", type=FieldType.TEXT, label_en="Name", label_ar="الاسم", searchable=True)
_OBJECT_LABELS = ("label_singular_en", "label_singular_ar", "label_plural_en", "label_plural_ar")
_FIXED_FIELD_KEYS = frozenset({"type", "unique", "default", "settings"})


class SchemaChangeRefused(ValueError):
    """The change breaks a rule (HTTP 400); `reason` says which, for people."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class LimitReached(SchemaChangeRefused):
    """Too many custom fields on an object or custom objects in a tenant (HTTP 400)."""


class OptionInUse(SchemaChangeRefused):
    """Select options that records still use cannot be removed (HTTP 400); `counts` per option value."""

    def __init__(self, field: str, counts: Mapping[str, int]) -> None:
        self.counts = dict(counts)
        used = ", ".join(f"{value} ({count} records)" for value, count in sorted(self.counts.items()))
        super().__init__(f"records still use these options of {field}: {used}; change those records first")


class SchemaConflict(Exception):
    """The name is taken, columns would collide, or another change holds the table (HTTP 409)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UnknownField(LookupError):
    """The object has no such field (HTTP 404)."""


# -- what callers ask for --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class NewObject:
    """A custom object: its plural API name (``/api/v1/<name>``), singular name and labels."""

    name: str
    singular: str
    label_singular_en: str
    label_singular_ar: str
    label_plural_en: str
    label_plural_ar: str

    def __post_init__(self) -> None:
        _check_object_name(self.name)
        _check_singular(self.singular)
        for label in _OBJECT_LABELS:
            _check_label(label, getattr(self, label))

    @property
    def table_name(self) -> str:
        return CUSTOM_TABLE_PREFIX + self.name


@dataclasses.dataclass(frozen=True)
class ObjectChanges:
    """What to change of an object; None leaves it as it is."""

    name: str | None = None
    singular: str | None = None
    label_singular_en: str | None = None
    label_singular_ar: str | None = None
    label_plural_en: str | None = None
    label_plural_ar: str | None = None

    def __post_init__(self) -> None:
        if self.name is not None:
            _check_object_name(self.name)
        if self.singular is not None:
            _check_singular(self.singular)
        for label in _OBJECT_LABELS:
            if getattr(self, label) is not None:
                _check_label(label, getattr(self, label))

    def given(self) -> dict[str, Any]:
        return _given(self)


def _given(changes: Any) -> dict[str, Any]:
    """The attributes of a changes dataclass that are set."""
    values = {field.name: getattr(changes, field.name) for field in dataclasses.fields(changes)}
    return {name: value for name, value in values.items() if value is not None}


@dataclasses.dataclass(frozen=True)
class FieldChanges:
    """What to change of a field; None leaves it as it is. Type, unique, default and settings never change."""

    name: str | None = None
    label_en: str | None = None
    label_ar: str | None = None
    options: tuple[SelectOption, ...] | None = None
    required: bool | None = None
    searchable: bool | None = None

    def given(self) -> dict[str, Any]:
        return _given(self)


def _check_object_name(name: Any) -> None:
    if not isinstance(name, str) or not _OBJECT_NAME.fullmatch(name) or len(name) > _MAX_OBJECT_NAME:
        raise SchemaChangeRefused(
            f"object name {_show(name)} must be snake_case: a lower-case letter, then a-z, 0-9 or _ "
            f"(at most {_MAX_OBJECT_NAME})"
        )
    if name in RESERVED_OBJECT_NAMES:
        raise SchemaChangeRefused(f"{name} is reserved; choose another object name")


def _check_singular(singular: Any) -> None:
    if not isinstance(singular, str) or not _OBJECT_NAME.fullmatch(singular) or len(singular) > _MAX_IDENTIFIER:
        raise SchemaChangeRefused(f"singular {_show(singular)} must be snake_case (at most {_MAX_IDENTIFIER})")


def _check_label(what: str, label: Any) -> None:
    if not isinstance(label, str) or not label.strip() or len(label) > _MAX_LABEL or "\x00" in label:
        raise SchemaChangeRefused(f"{what} must be a non-empty text of at most {_MAX_LABEL} characters")


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# -- JSON bodies -> what callers ask for -------------------------------------------------------------------------

_Parser = Callable[[str, Any], Any]


def _text(key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise SchemaChangeRefused(f"{key} must be text")
    return value


def _label(key: str, value: Any) -> str:
    return _text(key, value).strip()


def _flag(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise SchemaChangeRefused(f"{key} must be true or false")
    return value


def _anything(key: str, value: Any) -> Any:
    return value


def _settings(key: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise SchemaChangeRefused(f"{key} must be an object")
    return dict(value)


def _options(key: str, value: Any) -> tuple[SelectOption, ...]:
    if not isinstance(value, list):
        raise SchemaChangeRefused(f"{key} must be a list of {{value, label_en, label_ar, color}}")
    return tuple(_option(f"{key}[{index}]", item) for index, item in enumerate(value))


def _option(key: str, value: Any) -> SelectOption:
    shape = {"value": _text, "label_en": _label, "label_ar": _label, "color": _text}
    parts = _parsed(value, shape, required=("value", "label_en", "label_ar"), what=key)
    try:
        return SelectOption(**parts)
    except InvalidFieldDefinition as exc:
        raise SchemaChangeRefused(f"{key}: {exc}") from None


def _parsed(data: Any, shape: Mapping[str, _Parser], *, required: Collection[str], what: str) -> dict[str, Any]:
    """The keys of a JSON object, each through its parser; unknown or missing keys are refused. JSON null is
    the same as leaving a key out."""
    if not isinstance(data, Mapping):
        raise SchemaChangeRefused(f"{what} must be a JSON object")
    unknown = sorted(str(key) for key in data if key not in shape)
    if unknown:
        raise SchemaChangeRefused(f"{what} has no {', '.join(unknown)}; expected {', '.join(shape)}")
    missing = [key for key in required if data.get(key) is None]
    if missing:
        raise SchemaChangeRefused(f"{what} needs {', '.join(missing)}")
    return {key: parse(key, data[key]) for key, parse in shape.items() if data.get(key) is not None}


_OBJECT_SHAPE: dict[str, _Parser] = {"name": _text, "singular": _text} | {label: _label for label in _OBJECT_LABELS}
_FIELD_SHAPE: dict[str, _Parser] = {
    "name": _text,
    "type": _text,
    "label_en": _label,
    "label_ar": _label,
    "required": _flag,
    "unique": _flag,
    "options": _options,
    "default": _anything,
    "settings": _settings,
    "searchable": _flag,
}
_FIELD_CHANGE_SHAPE: dict[str, _Parser] = {
    "name": _text,
    "label_en": _label,
    "label_ar": _label,
    "options": _options,
    "required": _flag,
    "searchable": _flag,
}


def new_object_from_json(data: Any) -> NewObject:
    return NewObject(**_parsed(data, _OBJECT_SHAPE, required=tuple(_OBJECT_SHAPE), what="an object"))


def object_changes_from_json(data: Any) -> ObjectChanges:
    return ObjectChanges(**_parsed(data, _OBJECT_SHAPE, required=(), what="object changes"))


def field_from_json(data: Any) -> FieldDefinition:
    parts = _parsed(data, _FIELD_SHAPE, required=("name", "type", "label_en", "label_ar"), what="a field")
    try:
        return FieldDefinition(**parts)
    except InvalidFieldDefinition as exc:
        raise SchemaChangeRefused(str(exc)) from None


def field_changes_from_json(data: Any) -> FieldChanges:
    if isinstance(data, Mapping):
        fixed = sorted(_FIXED_FIELD_KEYS & set(data))
        if fixed:
            raise SchemaChangeRefused(
                f"{', '.join(fixed)} cannot change once a field exists; remove the field and add a new one"
            )
    return FieldChanges(**_parsed(data, _FIELD_CHANGE_SHAPE, required=(), what="field changes"))


# -- the API shape of the catalogue -------------------------------------------------------------------------------


def _field_api(field: FieldDefinition, *, is_custom: bool) -> dict[str, Any]:
    return {
        "name": field.name,
        "type": str(field.type),
        "label_en": field.label_en,
        "label_ar": field.label_ar,
        "required": field.required,
        "unique": field.unique,
        "searchable": field.searchable,
        "options": [_option_json(option) for option in field.options],
        "default": field.default,
        "settings": dict(field.settings),
        "is_custom": is_custom,
    }


def _option_json(option: SelectOption) -> dict[str, str]:
    return {"value": option.value, "label_en": option.label_en, "label_ar": option.label_ar, "color": option.color}


def _object_api(obj: ObjectDefinition, custom_fields: Collection[tuple[str, str]]) -> dict[str, Any]:
    return {
        "name": obj.name,
        "singular": obj.singular,
        **{label: getattr(obj, label) for label in _OBJECT_LABELS},
        "is_custom": obj.is_custom,
        "fields": [_field_api(field, is_custom=(obj.name, field.name) in custom_fields) for field in obj.fields],
    }


async def describe_objects(connection: asyncpg.Connection) -> list[dict[str, Any]]:
    """Every object with its fields, read now (not from a cache)."""
    catalogue = await load_catalogue(connection)
    custom = await _custom_fields(connection)
    return [_object_api(obj, custom) for obj in catalogue.objects.values()]


async def describe_object(connection: asyncpg.Connection, name: str) -> dict[str, Any]:
    obj = _object(await load_catalogue(connection), name)
    return _object_api(obj, await _custom_fields(connection))


# -- the changes ----------------------------------------------------------------------------------------------------


async def create_object(
    connection: asyncpg.Connection, tenant: TenantRecord, new: NewObject, *, actor: str = "system"
) -> dict[str, Any]:
    """A custom object: its table (the common record columns and a ``name`` field), index and metadata."""
    async with _schema_change(connection) as catalogue:
        if await _count_custom_objects(connection) >= MAX_CUSTOM_OBJECTS:
            raise LimitReached(f"a workspace has at most {MAX_CUSTOM_OBJECTS} custom objects")
        if new.name in catalogue.objects:
            raise SchemaConflict(f"there is already an object {new.name}")
        await _create_table(connection, new.table_name, _NAME_FIELD)
        await _insert_object(connection, new)
        await _insert_field(connection, new.name, _NAME_FIELD, is_custom=False)
        described = await describe_object(connection, new.name)
    await _changed(connection, tenant, actor, "crm.object_created", object=new.name)
    return described


async def change_object(
    connection: asyncpg.Connection, tenant: TenantRecord, name: str, changes: ObjectChanges, *, actor: str = "system"
) -> dict[str, Any]:
    """New labels for any object; a new API name or singular for a custom object only (its table is renamed,
    so its records stay)."""
    async with _schema_change(connection) as catalogue:
        obj = _object(catalogue, name)
        new_name = changes.name or obj.name
        if not obj.is_custom and (new_name != obj.name or changes.singular not in (None, obj.singular)):
            raise SchemaChangeRefused(f"{obj.name} is a standard object: only its labels can change")
        if new_name != obj.name:
            await _rename_object(connection, catalogue, obj, new_name)
        await _update_object_row(connection, new_name, changes)
        described = await describe_object(connection, new_name)
    await _changed(connection, tenant, actor, "crm.object_changed", object=name, changed=sorted(changes.given()))
    return described


async def remove_object(
    connection: asyncpg.Connection, tenant: TenantRecord, name: str, *, actor: str = "system"
) -> None:
    """Drop a custom object's table with its records, fields, views, links and timeline."""
    async with _schema_change(connection) as catalogue:
        obj = _object(catalogue, name)
        if not obj.is_custom:
            raise SchemaChangeRefused(f"{obj.name} is a standard object and cannot be removed")
        pointing = await _relations_to(connection, obj.name)
        if pointing:
            raise SchemaChangeRefused(f"fields point at {obj.name}: {', '.join(pointing)}; remove them first")
        await _drop_object(connection, obj)
    await _changed(connection, tenant, actor, "crm.object_removed", object=name)


async def add_field(
    connection: asyncpg.Connection,
    tenant: TenantRecord,
    object_name: str,
    field: FieldDefinition,
    *,
    actor: str = "system",
) -> dict[str, Any]:
    """A custom field: its columns (filled with its default, if any), unique index and metadata."""
    async with _schema_change(connection) as catalogue:
        obj = _object(catalogue, object_name)
        await _check_new_field(connection, catalogue, obj, field)
        has_rows = await _has_rows(connection, obj.table_name)
        if field.required and field.default is None and has_rows:
            raise SchemaChangeRefused(
                f"{obj.name} already has records: a required field needs a default to fill them with"
            )
        await _add_columns(connection, obj.table_name, field, fill=has_rows)
        await _insert_field(connection, obj.name, field, is_custom=True)
        await _check_reads_back(connection, obj.name, field)
        if field.searchable and field.default is not None and has_rows:
            await _refresh_search_text(connection, _with_fields(obj, (*obj.fields, field)))
    await _changed(connection, tenant, actor, "crm.field_added", object=obj.name, field=field.name)
    return _field_api(field, is_custom=True)


async def change_field(
    connection: asyncpg.Connection,
    tenant: TenantRecord,
    object_name: str,
    field_name: str,
    changes: FieldChanges,
    *,
    actor: str = "system",
) -> dict[str, Any]:
    """New labels, options or searchable for any field; a new name or required for a custom field only (its
    columns are renamed, so its values stay)."""
    async with _schema_change(connection) as catalogue:
        obj = _object(catalogue, object_name)
        current = _field(obj, field_name)
        is_custom = await _is_custom_field(connection, obj.name, current.name)
        updated = _updated_field(obj, current, changes, is_custom=is_custom)
        await _check_changed_field(connection, obj, current, updated)
        await _apply_field_change(connection, obj, current, updated)
    changed = sorted(changes.given())
    await _changed(connection, tenant, actor, "crm.field_changed", object=obj.name, field=field_name, changed=changed)
    return _field_api(updated, is_custom=is_custom)


async def remove_field(
    connection: asyncpg.Connection, tenant: TenantRecord, object_name: str, field_name: str, *, actor: str = "system"
) -> None:
    """Drop a custom field's columns (and their values) and its metadata; saved views lose it from their columns
    and sorts (a view that filters or groups by it must change first)."""
    async with _schema_change(connection) as catalogue:
        obj = _object(catalogue, object_name)
        field = _field(obj, field_name)
        if not await _is_custom_field(connection, obj.name, field.name):
            raise SchemaChangeRefused(f"{field.name} is a standard field of {obj.name} and cannot be removed")
        await _drop_from_views(connection, obj, field)
        await _drop_columns(connection, obj.table_name, column_names(field))
        await _delete_field_row(connection, obj.name, field.name)
        if field.searchable:
            await _refresh_search_text(connection, _with_fields(obj, tuple(f for f in obj.fields if f is not field)))
    await _changed(connection, tenant, actor, "crm.field_removed", object=obj.name, field=field_name)


# -- select options: how many records use each, and removing one with a move -----------------------------------------


async def option_counts(
    connection: asyncpg.Connection, obj: ObjectDefinition, field: FieldDefinition
) -> dict[str, int]:
    """How many records hold each option of a select or multi-select field, counted as the removal rule counts
    them (soft-deleted records too); options nobody uses are left out."""
    _check_has_options(obj, field)
    return await _option_use(connection, obj.table_name, field, [option.value for option in field.options])


async def remove_option(
    connection: asyncpg.Connection,
    tenant: TenantRecord,
    object_name: str,
    field_name: str,
    value: str,
    *,
    move_to: str | None = None,
    actor: str = "system",
    record_actor: Actor | None = None,
) -> dict[str, Any]:
    """Remove one option of a select or multi-select field. While records hold it the removal is refused
    (`OptionInUse`), unless ``move_to`` names another option of the field: then, in the same transaction, those
    records (soft-deleted ones too) move to it first, each with a timeline entry by ``record_actor``."""
    async with _schema_change(connection) as catalogue:
        obj = _object(catalogue, object_name)
        current = _field(obj, field_name)
        _check_has_options(obj, current)
        values = [option.value for option in current.options]
        if value not in values:
            raise SchemaChangeRefused(f"{current.name} has no option {_show(value)}")
        if move_to is not None and (move_to == value or move_to not in values):
            raise SchemaChangeRefused(f"records can only move to another option of {current.name}")
        is_custom = await _is_custom_field(connection, obj.name, current.name)
        changes = FieldChanges(options=tuple(option for option in current.options if option.value != value))
        updated = _updated_field(obj, current, changes, is_custom=is_custom)
        moved = 0
        if move_to is not None:
            moved = await _move_option(connection, obj, current, value, move_to, record_actor or Actor(source="system"))
        await _check_changed_field(connection, obj, current, updated)
        await _apply_field_change(connection, obj, current, updated)
    await _changed(
        connection,
        tenant,
        actor,
        "crm.option_removed",
        object=obj.name,
        field=current.name,
        option=value,
        moved_to=move_to,
        moved=moved,
    )
    return _field_api(updated, is_custom=is_custom)


def _check_has_options(obj: ObjectDefinition, field: FieldDefinition) -> None:
    if field.type not in (FieldType.SELECT, FieldType.MULTI_SELECT):
        raise SchemaChangeRefused(f"{field.name} of {obj.name} is not a select field: it has no options")


# -- rules ----------------------------------------------------------------------------------------------------------


@asynccontextmanager
async def _schema_change(connection: asyncpg.Connection) -> AsyncIterator[Catalogue]:
    """One transaction holding the tenant's schema lock; yields the catalogue as it is once the lock is held."""
    try:
        async with connection.transaction():
            await connection.execute(f"SET LOCAL lock_timeout = '{_LOCK_TIMEOUT}'")
            await connection.execute("SELECT pg_advisory_xact_lock($1)", _LOCK_KEY)
            yield await load_catalogue(connection)
    except asyncpg.LockNotAvailableError:
        raise SchemaConflict("another change or a long query is using the table; try again in a moment") from None
    except (asyncpg.DuplicateColumnError, asyncpg.DuplicateTableError, asyncpg.UniqueViolationError):
        raise SchemaConflict("that name is already taken") from None
    except asyncpg.TooManyColumnsError:
        raise SchemaChangeRefused(
            "the table has reached PostgreSQL's limit of 1600 columns (removed fields still count)"
        ) from None


async def _changed(
    connection: asyncpg.Connection, tenant: TenantRecord, actor: str, action: str, **details: Any
) -> None:
    """After a commit: this process stops using its prepared statements (the cached catalogue follows the
    catalogue version by itself, see `app.crm.services.catalogue_of`); audit."""
    await connection.reload_schema_state()  # every connection of the tenant's pool in this process
    await audit.record(actor, action, tenant_slug=tenant.slug, **details)


def _object(catalogue: Catalogue, name: str) -> ObjectDefinition:
    obj = catalogue.get(name)
    if obj is None:
        raise UnknownObject(f"There is no object '{name}'.")
    return obj


def _field(obj: ObjectDefinition, name: str) -> FieldDefinition:
    field = obj.field(name)
    if field is None:
        raise UnknownField(f"{obj.name} has no field '{name}'.")
    return field


def _with_fields(obj: ObjectDefinition, fields: tuple[FieldDefinition, ...]) -> ObjectDefinition:
    return dataclasses.replace(obj, fields=fields)


async def _check_new_field(
    connection: asyncpg.Connection, catalogue: Catalogue, obj: ObjectDefinition, field: FieldDefinition
) -> None:
    if await _count_custom_fields(connection, obj.name) >= MAX_CUSTOM_FIELDS:
        raise LimitReached(f"an object has at most {MAX_CUSTOM_FIELDS} custom fields")
    if field.unique and field.default is not None:
        raise SchemaChangeRefused("a unique field cannot have a default: every record would share it")
    if field.type == FieldType.RELATION and field.settings["target"] not in catalogue.objects:
        raise SchemaChangeRefused("a relation field needs settings.target: the name of one of your objects")
    await _check_free_name(connection, obj, field.name, column_names(field))


async def _check_free_name(
    connection: asyncpg.Connection, obj: ObjectDefinition, name: str, wanted: Iterable[str], *, own: Iterable[str] = ()
) -> None:
    if obj.field(name) is not None:
        raise SchemaConflict(f"{obj.name} already has a field {name}")
    taken = (await _table_columns(connection, obj.table_name)) - set(own)
    clash = sorted(set(wanted) & taken)
    if clash:
        raise SchemaConflict(f"{obj.name} already has columns {', '.join(clash)}; choose another field name")


async def _check_reads_back(connection: asyncpg.Connection, object_name: str, field: FieldDefinition) -> None:
    """The catalogue, read the way every request reads it, must give back exactly this field: a definition it
    cannot read would take the whole CRM of the tenant down with it. (A text default stored as a JSON string is
    decoded twice by `load_catalogue` on a connection with a json codec, as of this writing.)"""
    try:
        loaded = _object(await load_catalogue(connection), object_name).field(field.name)
    except ValueError:
        loaded = None
    if loaded != field:
        what = "the field" if field.default is None else f"the default {_show(field.default)}"
        raise SchemaChangeRefused(f"{what} cannot be stored yet; leave it out")


def _updated_field(
    obj: ObjectDefinition, current: FieldDefinition, changes: FieldChanges, *, is_custom: bool
) -> FieldDefinition:
    if not is_custom and (changes.name not in (None, current.name) or changes.required not in (None, current.required)):
        raise SchemaChangeRefused(
            f"{current.name} is a standard field of {obj.name}: only its labels, options and searchable can change"
        )
    try:
        return dataclasses.replace(current, **changes.given())
    except InvalidFieldDefinition as exc:
        raise SchemaChangeRefused(str(exc)) from None


async def _check_changed_field(
    connection: asyncpg.Connection, obj: ObjectDefinition, current: FieldDefinition, updated: FieldDefinition
) -> None:
    if updated.name != current.name:
        own = column_names(current)
        await _check_free_name(connection, obj, updated.name, column_names(updated), own=own)
    removed = {option.value for option in current.options} - {option.value for option in updated.options}
    if removed:
        counts = await _option_use(connection, obj.table_name, current, sorted(removed))
        if counts:
            raise OptionInUse(current.name, counts)
    if updated.required and not current.required:
        empty = await _count_empty(connection, obj.table_name, column_names(current))
        if empty:
            raise SchemaChangeRefused(f"{empty} records of {obj.name} have no {current.name}; fill them first")


async def _apply_field_change(
    connection: asyncpg.Connection, obj: ObjectDefinition, current: FieldDefinition, updated: FieldDefinition
) -> None:
    if updated.name != current.name:
        await _rename_columns(connection, obj.table_name, column_names(current), column_names(updated))
        await _rename_in_views(connection, obj, current, updated)
    if updated.required != current.required:
        await _set_not_null(connection, obj.table_name, updated)
    await _update_field_row(connection, obj.name, current.name, updated)
    if updated.searchable != current.searchable:
        fields = tuple(updated if field is current else field for field in obj.fields)
        await _refresh_search_text(connection, _with_fields(obj, fields))


async def _rename_object(
    connection: asyncpg.Connection, catalogue: Catalogue, obj: ObjectDefinition, new_name: str
) -> None:
    if new_name in catalogue.objects:
        raise SchemaConflict(f"there is already an object {new_name}")
    await _rename_table(connection, obj.table_name, CUSTOM_TABLE_PREFIX + new_name)
    await _rename_object_rows(connection, obj.name, new_name, CUSTOM_TABLE_PREFIX + new_name)


# -- saved views follow their fields ------------------------------------------------------------------------------


def _query_names(obj: ObjectDefinition, field: FieldDefinition) -> list[str]:
    """The names filters and sorts use for this field (a currency ``total`` is total_amount_minor, ...)."""
    record_fields = len(query_fields(_with_fields(obj, ())))
    return [part.name for part in query_fields(_with_fields(obj, (field,)))[record_fields:]]


_BRANCHES = ("and", "or", "not")


def _filter_fields(node: Any) -> set[str]:
    """Every field name a filter tree (the JSON form of `app.crm.query`) mentions."""
    if isinstance(node, list):
        return set().union(*(_filter_fields(item) for item in node))
    if not isinstance(node, Mapping):
        return set()
    own = {node["field"]} if isinstance(node.get("field"), str) else set()
    return own.union(*(_filter_fields(node[key]) for key in _BRANCHES if key in node))


def _renamed_filter(node: Any, names: Mapping[str, str]) -> Any:
    if isinstance(node, list):
        return [_renamed_filter(item, names) for item in node]
    if not isinstance(node, Mapping):
        return node
    renamed = {key: _renamed_filter(value, names) if key in _BRANCHES else value for key, value in node.items()}
    if isinstance(node.get("field"), str):
        renamed["field"] = names.get(node["field"], node["field"])
    return renamed


async def _rename_in_views(
    connection: asyncpg.Connection, obj: ObjectDefinition, current: FieldDefinition, updated: FieldDefinition
) -> None:
    names = {current.name: updated.name} | dict(
        zip(_query_names(obj, current), _query_names(obj, updated), strict=True)
    )
    for view in await _views_of(connection, obj.name):
        await _save_view_if_changed(
            connection,
            view,
            filter=_renamed_filter(view["filter"], names),
            sorts=[{**sort, "field": names.get(sort.get("field"), sort.get("field"))} for sort in view["sorts"]],
            columns=[names.get(column, column) for column in view["columns"]],
            group_by=names.get(view["group_by"], view["group_by"]),
        )


async def _drop_from_views(connection: asyncpg.Connection, obj: ObjectDefinition, field: FieldDefinition) -> None:
    names = {field.name, *_query_names(obj, field)}
    views = await _views_of(connection, obj.name)
    using = [view["label_en"] for view in views if _filter_fields(view["filter"]) & names or view["group_by"] in names]
    if using:
        raise SchemaChangeRefused(f"saved views filter or group by {field.name}: {', '.join(using)}; change them first")
    for view in views:
        await _save_view_if_changed(
            connection,
            view,
            filter=view["filter"],
            sorts=[sort for sort in view["sorts"] if sort.get("field") not in names],
            columns=[column for column in view["columns"] if column not in names],
            group_by=view["group_by"],
        )


async def _save_view_if_changed(connection: asyncpg.Connection, view: Mapping[str, Any], **values: Any) -> None:
    if any(view[key] != value for key, value in values.items()):
        await _update_view(connection, view["id"], **values)


# -- search text ------------------------------------------------------------------------------------------------


async def _refresh_search_text(connection: asyncpg.Connection, obj: ObjectDefinition) -> None:
    """Recompute every record's search text after the searchable fields changed, in batches by id."""
    wanted = ["id", *(column for field in obj.fields if field.searchable for column in column_names(field))]
    after: uuid.UUID | None = None
    while rows := await _rows_after(connection, obj.table_name, wanted, after):
        texts = [record_search_text(obj, dict(row)) for row in rows]
        await _set_search_texts(connection, obj.table_name, [row["id"] for row in rows], texts)
        after = rows[-1]["id"]


# -- SQL ------------------------------------------------------------------------------------------------------------
# Identifiers come from validated names and are quoted with quote_ident; every value is a bound parameter. JSON goes
# as text cast to jsonb, so these statements work with or without a json codec on the connection.

_RECORD_COLUMNS = """
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    created_by_source text NOT NULL DEFAULT 'system',
    created_by_id text,
    created_by_name text,
    updated_by_source text NOT NULL DEFAULT 'system',
    updated_by_id text,
    updated_by_name text,
    deleted_at timestamptz,
    position double precision NOT NULL DEFAULT 0,
    search_text text NOT NULL DEFAULT '',
    search_vector tsvector GENERATED ALWAYS AS (to_tsvector('simple', search_text)) STORED"""
"""The common record columns of every object table (tenant migrations 0002 and 0007)."""


def _json_text(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def _json_value(value: Any) -> Any:
    """jsonb as a Python value whether or not the connection has a json codec."""
    return json.loads(value) if isinstance(value, str) else value


async def _create_table(connection: asyncpg.Connection, table: str, field: FieldDefinition) -> None:
    definitions = ",\n    ".join(column.ddl for column in columns(field))
    await connection.execute(f"CREATE TABLE {quote_ident(table)} ({_RECORD_COLUMNS},\n    {definitions}\n)")
    # Lists read newest first; the index name is left to PostgreSQL, which never picks a taken one.
    await connection.execute(f"CREATE INDEX ON {quote_ident(table)} (created_at DESC, id) WHERE deleted_at IS NULL")


async def _rename_table(connection: asyncpg.Connection, table: str, new_table: str) -> None:
    await connection.execute(f"ALTER TABLE {quote_ident(table)} RENAME TO {quote_ident(new_table)}")


async def _drop_object(connection: asyncpg.Connection, obj: ObjectDefinition) -> None:
    await connection.execute(f"DROP TABLE {quote_ident(obj.table_name)}")
    await connection.execute("DELETE FROM timeline_events WHERE object_name = $1", obj.name)
    # crm_fields, views and record_links go with it (ON DELETE CASCADE).
    await connection.execute("DELETE FROM crm_objects WHERE name = $1", obj.name)


async def _add_columns(connection: asyncpg.Connection, table: str, field: FieldDefinition, *, fill: bool) -> None:
    """The field's columns: added nullable, filled with the default, then NOT NULL where `columns` says so."""
    added = ", ".join(f"ADD COLUMN {dataclasses.replace(column, nullable=True).ddl}" for column in columns(field))
    await connection.execute(f"ALTER TABLE {quote_ident(table)} {added}")
    if fill and field.default is not None:
        await _fill(connection, table, field, validate(field, field.default))
    if field.required:
        await _set_not_null(connection, table, field)
    if field.unique:
        first = quote_ident(column_names(field)[0])
        await connection.execute(f"CREATE UNIQUE INDEX ON {quote_ident(table)} ({first}) WHERE deleted_at IS NULL")


async def _fill(connection: asyncpg.Connection, table: str, field: FieldDefinition, values: Mapping[str, Any]) -> None:
    types = {column.name: column.sql_type for column in columns(field)}
    assignments, arguments = [], []
    for number, (name, value) in enumerate(values.items(), start=1):
        jsonb = types[name] == "jsonb"
        assignments.append(f"{quote_ident(name)} = ${number}{'::text::jsonb' if jsonb else ''}")
        arguments.append(_json_text(value) if jsonb else value)
    await connection.execute(f"UPDATE {quote_ident(table)} SET {', '.join(assignments)}", *arguments)  # noqa: S608


async def _set_not_null(connection: asyncpg.Connection, table: str, field: FieldDefinition) -> None:
    """NOT NULL on the columns a required field always fills; dropped on them when it is not required."""
    changes = [
        f"ALTER COLUMN {quote_ident(column.name)} {'DROP' if column.nullable else 'SET'} NOT NULL"
        for column, kept in zip(columns(field), columns(dataclasses.replace(field, required=True)), strict=True)
        if not kept.nullable
    ]
    if changes:
        await connection.execute(f"ALTER TABLE {quote_ident(table)} {', '.join(changes)}")


async def _rename_columns(connection: asyncpg.Connection, table: str, old: list[str], new: list[str]) -> None:
    for before, after in zip(old, new, strict=True):
        await connection.execute(
            f"ALTER TABLE {quote_ident(table)} RENAME COLUMN {quote_ident(before)} TO {quote_ident(after)}"
        )


async def _drop_columns(connection: asyncpg.Connection, table: str, names: list[str]) -> None:
    dropped = ", ".join(f"DROP COLUMN {quote_ident(name)}" for name in names)
    await connection.execute(f"ALTER TABLE {quote_ident(table)} {dropped}")


async def _table_columns(connection: asyncpg.Connection, table: str) -> set[str]:
    rows = await connection.fetch(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1",
        table,
    )
    return {row["column_name"] for row in rows}


async def _has_rows(connection: asyncpg.Connection, table: str) -> bool:
    return bool(await connection.fetchval(f"SELECT EXISTS (SELECT 1 FROM {quote_ident(table)})"))  # noqa: S608


async def _count_empty(connection: asyncpg.Connection, table: str, names: list[str]) -> int:
    """Records (soft-deleted ones too) where the field has no value."""
    empty = " AND ".join(f"{quote_ident(name)} IS NULL" for name in names)
    return int(await connection.fetchval(f"SELECT count(*) FROM {quote_ident(table)} WHERE {empty}"))  # noqa: S608


async def _option_use(
    connection: asyncpg.Connection, table: str, field: FieldDefinition, values: list[str]
) -> dict[str, int]:
    """How many records (soft-deleted ones too) hold each of these option values."""
    column = quote_ident(field.name)
    source = f"unnest({column})" if field.type == FieldType.MULTI_SELECT else column
    rows = await connection.fetch(
        f"SELECT value, count(*) AS n FROM (SELECT {source} AS value FROM {quote_ident(table)}) AS used"  # noqa: S608
        " WHERE value = ANY($1::text[]) GROUP BY value",
        values,
    )
    return {row["value"]: row["n"] for row in rows}


async def _rows_after(
    connection: asyncpg.Connection, table: str, names: list[str], after: uuid.UUID | None
) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await connection.fetch(
        f"SELECT {', '.join(quote_ident(name) for name in names)} FROM {quote_ident(table)}"  # noqa: S608
        f" WHERE $1::uuid IS NULL OR id > $1 ORDER BY id LIMIT {_REFRESH_BATCH}",
        after,
    )
    return rows


async def _set_search_texts(connection: asyncpg.Connection, table: str, ids: list[uuid.UUID], texts: list[str]) -> None:
    await connection.execute(
        f"UPDATE {quote_ident(table)} AS r SET search_text = v.text"  # noqa: S608
        " FROM unnest($1::uuid[], $2::text[]) AS v(id, text) WHERE r.id = v.id",
        ids,
        texts,
    )


async def _count_custom_objects(connection: asyncpg.Connection) -> int:
    return int(await connection.fetchval("SELECT count(*) FROM crm_objects WHERE is_custom"))


async def _count_custom_fields(connection: asyncpg.Connection, object_name: str) -> int:
    return int(
        await connection.fetchval("SELECT count(*) FROM crm_fields WHERE object_name = $1 AND is_custom", object_name)
    )


async def _custom_fields(connection: asyncpg.Connection) -> set[tuple[str, str]]:
    rows = await connection.fetch("SELECT object_name, name FROM crm_fields WHERE is_custom")
    return {(row["object_name"], row["name"]) for row in rows}


async def _is_custom_field(connection: asyncpg.Connection, object_name: str, name: str) -> bool:
    return bool(
        await connection.fetchval(
            "SELECT is_custom FROM crm_fields WHERE object_name = $1 AND name = $2", object_name, name
        )
    )


async def _relations_to(connection: asyncpg.Connection, object_name: str) -> list[str]:
    """Relation fields of other objects that point at this one, as ``object.field``."""
    rows = await connection.fetch(
        "SELECT object_name, name FROM crm_fields WHERE type = 'relation' AND settings ->> 'target' = $1"
        " AND object_name <> $1 ORDER BY object_name, name",
        object_name,
    )
    return [f"{row['object_name']}.{row['name']}" for row in rows]


async def _insert_object(connection: asyncpg.Connection, new: NewObject) -> None:
    await connection.execute(
        "INSERT INTO crm_objects (name, singular, table_name, label_singular_en, label_singular_ar, label_plural_en,"
        " label_plural_ar, is_custom, position)"
        " SELECT $1, $2, $3, $4, $5, $6, $7, true, coalesce(max(position), 0) + 1 FROM crm_objects",
        new.name,
        new.singular,
        new.table_name,
        *(getattr(new, label) for label in _OBJECT_LABELS),
    )


async def _update_object_row(connection: asyncpg.Connection, name: str, changes: ObjectChanges) -> None:
    await connection.execute(
        "UPDATE crm_objects SET singular = coalesce($2, singular), label_singular_en = coalesce($3, label_singular_en),"
        " label_singular_ar = coalesce($4, label_singular_ar), label_plural_en = coalesce($5, label_plural_en),"
        " label_plural_ar = coalesce($6, label_plural_ar), updated_at = now() WHERE name = $1",
        name,
        changes.singular,
        *(getattr(changes, label) for label in _OBJECT_LABELS),
    )


async def _rename_object_rows(connection: asyncpg.Connection, name: str, new_name: str, new_table: str) -> None:
    # crm_fields, views and record_links follow through ON UPDATE CASCADE; the timeline keeps the name as text.
    await connection.execute(
        "UPDATE crm_objects SET name = $2, table_name = $3, updated_at = now() WHERE name = $1",
        name,
        new_name,
        new_table,
    )
    await connection.execute("UPDATE timeline_events SET object_name = $2 WHERE object_name = $1", name, new_name)
    await connection.execute(
        "UPDATE crm_fields SET settings = jsonb_set(settings, '{target}', to_jsonb($2::text)), updated_at = now()"
        " WHERE type = 'relation' AND settings ->> 'target' = $1",
        name,
        new_name,
    )


async def _insert_field(
    connection: asyncpg.Connection, object_name: str, field: FieldDefinition, *, is_custom: bool
) -> None:
    await connection.execute(
        "INSERT INTO crm_fields (object_name, name, type, label_en, label_ar, required, is_unique, options,"
        " default_value, settings, searchable, is_custom, position)"
        " SELECT $1, $2, $3, $4, $5, $6, $7, $8::text::jsonb, $9::text::jsonb, $10::text::jsonb, $11, $12,"
        " coalesce(max(position), 0) + 1 FROM crm_fields WHERE object_name = $1",
        object_name,
        field.name,
        str(field.type),
        field.label_en,
        field.label_ar,
        field.required,
        field.unique,
        _json_text([_option_json(option) for option in field.options]),
        _json_text(field.default),
        _json_text(dict(field.settings)),
        field.searchable,
        is_custom,
    )


async def _update_field_row(
    connection: asyncpg.Connection, object_name: str, name: str, field: FieldDefinition
) -> None:
    await connection.execute(
        "UPDATE crm_fields SET name = $3, label_en = $4, label_ar = $5, options = $6::text::jsonb, required = $7,"
        " searchable = $8, updated_at = now() WHERE object_name = $1 AND name = $2",
        object_name,
        name,
        field.name,
        field.label_en,
        field.label_ar,
        _json_text([_option_json(option) for option in field.options]),
        field.required,
        field.searchable,
    )


async def _delete_field_row(connection: asyncpg.Connection, object_name: str, name: str) -> None:
    await connection.execute("DELETE FROM crm_fields WHERE object_name = $1 AND name = $2", object_name, name)


async def _views_of(connection: asyncpg.Connection, object_name: str) -> list[dict[str, Any]]:
    rows = await connection.fetch(
        "SELECT id, label_en, filter, sorts, columns, group_by FROM views WHERE object_name = $1", object_name
    )
    return [
        {
            "id": row["id"],
            "label_en": row["label_en"],
            "filter": _json_value(row["filter"]),
            "sorts": _json_value(row["sorts"]),
            "columns": _json_value(row["columns"]),
            "group_by": row["group_by"],
        }
        for row in rows
    ]


async def _update_view(
    connection: asyncpg.Connection, view_id: uuid.UUID, *, filter: Any, sorts: Any, columns: Any, group_by: Any
) -> None:
    await connection.execute(
        "UPDATE views SET filter = $2::text::jsonb, sorts = $3::text::jsonb, columns = $4::text::jsonb,"
        " group_by = $5, updated_at = now() WHERE id = $1",
        view_id,
        _json_text(filter),
        _json_text(sorts),
        _json_text(columns),
        group_by,
    )


async def _move_option(
    connection: asyncpg.Connection, obj: ObjectDefinition, field: FieldDefinition, value: str, to: str, actor: Actor
) -> int:
    """Every record holding ``value`` now holds ``to`` (a multi-select keeps each option once), with a timeline
    entry each; returns how many records moved."""
    table, column = quote_ident(obj.table_name), quote_ident(field.name)
    if field.type == FieldType.MULTI_SELECT:
        match = f"$1 = ANY({column})"
        new_value = (
            f"CASE WHEN $2 = ANY(t.{column}) THEN array_remove(t.{column}, $1)"
            f" ELSE array_replace(t.{column}, $1, $2) END"
        )
    else:
        match = f"{column} = $1"
        new_value = "$2"
    moved = await connection.fetchval(
        f"WITH old AS (SELECT id, {column} AS before FROM {table} WHERE {match} FOR UPDATE),"  # noqa: S608
        f" moved AS (UPDATE {table} AS t SET {column} = {new_value}, updated_at = now(), updated_by_source = $3,"
        f" updated_by_id = $4, updated_by_name = $5 FROM old WHERE t.id = old.id"
        f" RETURNING t.id, old.before, t.{column} AS after),"
        " logged AS (INSERT INTO timeline_events"
        " (object_name, record_id, kind, actor_source, actor_id, actor_name, diff)"
        " SELECT $6, id, 'updated', $3, $4, $5,"
        " jsonb_build_object($7::text, jsonb_build_array(to_jsonb(before), to_jsonb(after))) FROM moved RETURNING 1)"
        " SELECT count(*) FROM logged",
        value,
        to,
        actor.source,
        actor.id,
        actor.name,
        obj.name,
        field.name,
    )
    return int(moved)
