"""The rules of the import wizard and of exporting a list view, on top of the engine (app/crm/imports.py,
app/crm/exports.py): which field a CSV column probably is, how preview rows look, which view an export follows,
which columns its file keeps, and the engine's English reasons in the viewer's language."""

from __future__ import annotations

import codecs
import csv
import io
import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from markupsafe import Markup, escape

from app.crm import exports, imports, query, views
from app.crm.fields import FieldDefinition, column_names, to_api
from app.crm.imports import PreviewRow, Target
from app.crm.metadata import Catalogue, ObjectDefinition
from app.crm.pages import import_store
from app.crm.pages.present import field_label, related_titles, show
from app.crm.search_text import normalize
from app.lib.i18n import gettext, lazy, use_language

__all__ = [
    "ExportRefused",
    "PreviewLine",
    "TargetChoice",
    "export_file_name",
    "guess_mapping",
    "kept_columns",
    "preview_lines",
    "project_csv",
    "reason_in",
    "shown_fields",
    "start_view_export",
    "target_choices",
]

_PART_LABELS = {
    "amount": lazy("amount"),
    "currency": lazy("currency"),
    "first": lazy("first name"),
    "last": lazy("last name"),
    "street": lazy("street"),
    "city": lazy("city"),
    "region": lazy("region"),
    "postal_code": lazy("postal code"),
    "country": lazy("country"),
}
_CHUNK = 64 * 1024
_RECORD_COLUMNS = ("id", "created_at", "updated_at")


class ExportRefused(ValueError):
    """The export form names a view or columns that do not fit the object (400 with the reason)."""


# --- step 2: columns -> fields ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetChoice:
    value: str
    label: str


def _target_label(target: Target, language: str) -> str:
    label = field_label(target.field, language)
    if target.part is None:
        return label
    with use_language(language):
        return f"{label} · {gettext(_PART_LABELS.get(target.part, target.part))}"


def target_choices(obj: ObjectDefinition, language: str) -> list[TargetChoice]:
    """What a CSV column can be imported into, labelled in ``language`` (the value is the engine's target name)."""
    return [TargetChoice(name, _target_label(target, language)) for name, target in imports.targets_of(obj).items()]


def _key(text: str) -> str:
    """Spelling-insensitive: "E-mail", "email" and "EMAIL " are one key; Arabic letter variants are one too."""
    return re.sub(r"[\W_]+", "", normalize(text))


def _keys_of(name: str, target: Target) -> list[str]:
    labels = [target.field.label_en, target.field.label_ar]
    if target.part is not None:
        part_en = _PART_LABELS.get(target.part, target.part)
        with use_language("ar"):
            part_ar = gettext(part_en)
        labels = [f"{target.field.label_en} {part_en}", f"{target.field.label_ar} {part_ar}"]
    keys = [_key(name), *(_key(label) for label in labels)]
    # Arabic headers often drop the article: "جوال" for "الجوال".
    keys += [key.removeprefix("ال") for key in keys if key.startswith("ال") and len(key) > 4]
    return keys


def guess_mapping(obj: ObjectDefinition, header: Sequence[str]) -> dict[str, str | None]:
    """Each column -> the target whose name or English/Arabic label it spells (first come, first served), else
    None (skip). Exported record columns (id, created_at, updated_at) are skipped, as the engine does."""
    by_key: dict[str, str] = {}
    for name, target in imports.targets_of(obj).items():
        for key in _keys_of(name, target):
            by_key.setdefault(key, name)
    used: set[str] = set()
    mapping: dict[str, str | None] = {}
    for column in header:
        chosen = None if column in imports.SKIPPED_COLUMNS else by_key.get(_key(column))
        if chosen is not None and chosen in used:
            chosen = None
        if chosen is not None:
            used.add(chosen)
        mapping[column] = chosen
    return mapping


# --- step 3: the preview -------------------------------------------------------------------------------------------


@dataclass
class PreviewLine:
    row: int
    action: str
    """``create``, ``update`` or ``fail``."""
    cells: list[Markup]
    failing: set[str] = field(default_factory=set)
    """Names of the fields whose cells are wrong."""
    errors: list[tuple[str, str]] = field(default_factory=list)
    """(field label, reason) in the viewer's language."""


def shown_fields(columns: Mapping[int, Target]) -> list[FieldDefinition]:
    """The fields a mapping fills, in column order, each once."""
    found: dict[str, FieldDefinition] = {}
    for index in sorted(columns):
        found.setdefault(columns[index].field.name, columns[index].field)
    return list(found.values())


def _api_value(definition: FieldDefinition, values: Mapping[str, Any]) -> Any:
    names = column_names(definition)
    if not all(name in values for name in names):
        return None
    return to_api(definition, values)


def _raw_cells(definition: FieldDefinition, columns: Mapping[int, Target], cells: Sequence[str]) -> str:
    texts = [
        cells[index].strip()
        for index in sorted(columns)
        if columns[index].field.name == definition.name and index < len(cells) and cells[index].strip()
    ]
    return " ".join(texts)


async def preview_lines(
    connection: asyncpg.Connection,
    catalogue: Catalogue,
    obj: ObjectDefinition,
    columns: Mapping[int, Target],
    rows: Sequence[PreviewRow],
    language: str,
) -> tuple[list[FieldDefinition], list[PreviewLine]]:
    """The preview table: one line per row, with its values as they will be stored (shown the way list pages show
    them), or its own text and the reasons it would fail."""
    fields = shown_fields(columns)
    labels = {definition.name: field_label(definition, language) for definition in obj.fields}
    api_rows = [
        {definition.name: _api_value(definition, row.values) for definition in fields} if row.values else {}
        for row in rows
    ]
    titles = await related_titles(connection, catalogue, obj, api_rows, language)
    lines = []
    for row, api_row in zip(rows, api_rows, strict=True):
        if row.values is None:
            lines.append(
                PreviewLine(
                    row=row.row,
                    action="fail",
                    cells=[escape(_raw_cells(definition, columns, row.cells)) for definition in fields],
                    failing=set(row.errors),
                    errors=[
                        (labels.get(name, name), reason_in(reason, language)) for name, reason in row.errors.items()
                    ],
                )
            )
            continue
        cells = [show(definition, api_row.get(definition.name), language, titles=titles) for definition in fields]
        lines.append(PreviewLine(row=row.row, action="update" if row.updates else "create", cells=cells))
    return fields, lines


# --- the engine's reasons in Arabic --------------------------------------------------------------------------------

_NOT_TEXT = lazy("The file is not CSV text. Save it as “CSV UTF-8” and upload it again.")
_NO_DEDUPE = lazy("No column goes into %(field)s, the field used to find existing records.")
_NOTHING_IMPORTED = lazy("%(count)s rows are not valid, so nothing was imported.")
_REASONS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(pattern), message)
    for pattern, message in (
        (r"^required$", lazy("required")),
        (r"^unknown field$", lazy("unknown field")),
        (r"^not valid$", lazy("not valid")),
        (r"^already used by another record$", lazy("already used by another record")),
        (r"^the same value as row (?P<row>\d+) of this file$", lazy("the same value as row %(row)s of this file")),
        (
            r"^(?:\w+: )?(?P<value>.+) is not a valid email address(: .*)?$",
            lazy("%(value)s is not a valid e-mail address"),
        ),
        (r"^(?:\w+: )?(?P<value>.+) is not a (valid )?phone number$", lazy("%(value)s is not a valid phone number")),
        (
            r"^(?:\w+: )?(?P<value>.+) is not a yes/no value; .*$",
            lazy("%(value)s is not yes or no; use true/false, yes/no or 1/0"),
        ),
        (
            r"^(?:\w+: )?(?P<value>.+) is not a date in the form 2025-01-31$",
            lazy("%(value)s is not a date such as 2025-01-31"),
        ),
        (r"^(?:\w+: )?(?P<value>.+) is not one of (?P<options>.+)$", lazy("%(value)s is not one of: %(options)s")),
        (
            r"^(?:\w+: )?(?P<value>.+) is not an amount such as 12.50 or 12.50 SAR$",
            lazy("%(value)s is not an amount such as 12.50 or 12.50 SAR"),
        ),
        (r"^expected a finite number.*$", lazy("expected a number such as 12 or 12.5")),
        (r"^longer than (?P<count>\d+) characters$", lazy("longer than %(count)s characters")),
        (
            r"^(?:\w+: )?(?P<value>.+) is not (a|an http\(s\)|a plain http\(s\)) URL$",
            lazy("%(value)s is not a web address"),
        ),
        (r"^(?:\w+: )?(?P<value>.+) is not a record id \(UUID\)$", lazy("%(value)s is not a record id")),
        (r"^phone extensions are not supported$", lazy("phone extensions are not supported")),
        (
            r"^the file is empty: the first row must name the columns$",
            lazy("The file is empty: its first row must name the columns."),
        ),
        (r"^the file has a header but no rows$", lazy("The file has a header row but no rows.")),
        (r"^(?P<count>\d+) row\(s\) are not valid; nothing was imported$", _NOTHING_IMPORTED),
        (r"^two columns of the header have the same name$", lazy("Two columns of the header have the same name.")),
        (r"^the file (is not UTF-8 or UTF-16 text|contains NUL characters).*$", _NOT_TEXT),
        (r"^the file is larger than (?P<size>\d+) MB$", lazy("The file is larger than %(size)s MB.")),
        (r"^no column maps to a field$", lazy("Choose a field for at least one column.")),
        (r"^more than one column maps to (?P<targets>.+)$", lazy("More than one column goes into %(targets)s.")),
        (r"^no column maps to the dedupe field (?P<field>.+)$", _NO_DEDUPE),
        (r"^the (header row|file) is not valid CSV: (?P<detail>.+)$", lazy("The file is not valid CSV: %(detail)s")),
    )
]


def reason_in(reason: str, language: str) -> str:
    """An engine reason (English, sometimes with the offending value) in ``language``, when it is one we know."""
    for pattern, message in _REASONS:
        match = pattern.match(reason)
        if match:
            with use_language(language):
                return gettext(message) % match.groupdict()
    return reason


# --- exports of a list view ----------------------------------------------------------------------------------------


def _for_viewer(node: query.Filter, viewer: uuid.UUID) -> query.Filter:
    """The filter with every "@me" meaning the viewer (the rule of saved views, app.crm.views)."""
    if isinstance(node, query.Condition):
        me = str(viewer)
        value = node.value
        if value == views.ME:
            value = me
        elif isinstance(value, tuple):
            value = tuple(me if item == views.ME else item for item in value)
        return query.Condition(node.field, node.op, value)
    if isinstance(node, query.Not):
        return query.Not(_for_viewer(node.item, viewer))
    items = tuple(_for_viewer(item, viewer) for item in node.items)
    return query.And(items) if isinstance(node, query.And) else query.Or(items)


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    if isinstance(value, tuple | list):
        return [_json_value(item) for item in value]
    return value


def _filter_json(node: query.Filter) -> dict[str, Any]:
    """The JSON syntax of app/crm/query.py (what the export job stores)."""
    if isinstance(node, query.Condition):
        return {"field": node.field, "op": str(node.op), "value": _json_value(node.value)}
    if isinstance(node, query.Not):
        return {"not": _filter_json(node.item)}
    return {"and" if isinstance(node, query.And) else "or": [_filter_json(item) for item in node.items]}


def _sort_text(sorts: Sequence[Mapping[str, str]]) -> str | None:
    parts = [f"{item['field']}:{item.get('direction', 'asc')}:nulls_{item.get('nulls', 'last')}" for item in sorts]
    return ",".join(parts) or None


async def start_view_export(
    connection: asyncpg.Connection,
    obj: ObjectDefinition,
    *,
    filter_text: str | None,
    sort_text: str | None,
    view_id: str | None,
    columns_text: str | None,
    viewer: uuid.UUID,
    created_by: str,
) -> dict[str, Any]:
    """Start an export job of what a list page shows: its filter (either syntax; "@me" is the viewer), sort and
    columns. A field the form leaves out (None) comes from the saved view ``view_id``; a blank one means none
    (every row, the default order, every column). Raises ExportRefused or app.crm.query.QueryError."""
    raw_filter: Any = filter_text
    sort = sort_text
    columns = None if columns_text is None else [name.strip() for name in columns_text.split(",") if name.strip()]
    if view_id is not None and view_id.strip():
        try:
            view = await views.get_view(connection, uuid.UUID(view_id.strip()), viewer)
        except (ValueError, views.ViewNotFound):
            raise ExportRefused(f"there is no view {view_id.strip()!r}") from None
        if view["object"] != obj.name:
            raise ExportRefused(f"the view {view_id.strip()!r} shows another object")
        raw_filter = view["filter"] if raw_filter is None else raw_filter
        sort = _sort_text(view["sorts"]) if sort is None else sort
        columns = list(view["columns"]) if columns is None else columns
    parsed = exports.parse_export_filter(raw_filter)
    export_filter = None if parsed is None else _filter_json(_for_viewer(parsed, viewer))
    unknown = [name for name in columns or [] if obj.field(name) is None and name not in _RECORD_COLUMNS]
    if unknown:
        raise ExportRefused(f"{obj.name} has no column {', '.join(unknown)}")
    async with connection.transaction():
        job = await exports.create_export(
            connection, obj, filter=export_filter, sort=(sort or "").strip() or None, created_by=created_by
        )
        if columns:
            await import_store.save_export_columns(connection, uuid.UUID(job["id"]), columns)
    return job


def kept_columns(obj: ObjectDefinition, columns: Sequence[str] | None) -> list[str] | None:
    """The export file's columns for a view showing ``columns`` (field names), in the view's order, each field with
    all its parts, ``id`` first; None: every column."""
    if not columns:
        return None
    targets = imports.targets_of(obj)
    by_field: dict[str, list[str]] = {}
    for name in exports.export_columns(obj):
        target = targets.get(name)
        by_field.setdefault(name if target is None else target.field.name, []).append(name)
    kept = ["id"]
    for column in columns:
        kept += [name for name in by_field.get(column, []) if name not in kept]
    return kept


def project_csv(content: bytes, keep: Sequence[str] | None) -> Iterator[bytes]:
    """The export file in chunks, with only the ``keep`` columns (all when None); UTF-8 with a BOM."""
    if keep is None:
        for start in range(0, len(content), _CHUNK):
            yield content[start : start + _CHUNK]
        return
    reader = csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""))
    header = next(reader, [])
    indexes = [header.index(name) for name in keep if name in header]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([header[index] for index in indexes])
    first = True
    for cells in reader:
        writer.writerow([cells[index] if index < len(cells) else "" for index in indexes])
        if buffer.tell() >= _CHUNK:
            yield (codecs.BOM_UTF8 if first else b"") + buffer.getvalue().encode()
            first = False
            buffer.seek(0)
            buffer.truncate()
    yield (codecs.BOM_UTF8 if first else b"") + buffer.getvalue().encode()


def export_file_name(obj: ObjectDefinition, created_at: datetime, timezone: str) -> str:
    """``people-2026-11-27.csv``: the object and the day the export was asked for."""
    return f"{obj.name}-{created_at.astimezone(ZoneInfo(timezone)).date().isoformat()}.csv"
