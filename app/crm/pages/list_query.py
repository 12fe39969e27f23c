"""What a list page asks for, in both directions: the filter builder's rows <-> the engine's filter (compact text
for URLs, JSON for saved views), the sort of a column header, the columns shown. Pure functions, no I/O.

The builder speaks in people's terms (a field's label, "is empty", money in riyals, an option's label); the URL
and saved views keep the engine's syntax (app/crm/query.py), so every list URL is a deep link an API client could
reuse, and a filter too rich for the builder still works (it is shown as text).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from babel import numbers

from app.crm import query
from app.crm.fields import FieldDefinition, FieldType
from app.crm.metadata import ObjectDefinition
from app.crm.pages.present import field_label, gettext_in, option_label, title_fields
from app.crm.views import ME

__all__ = [
    "BUILDER_OPS",
    "BuilderField",
    "BuilderRow",
    "builder_fields",
    "compose_filter",
    "decompose_filter",
    "default_columns",
    "filter_to_json",
    "parse_filter_text",
    "shown_columns",
    "sort_name",
    "sorts_from_json",
    "sorts_to_json",
    "sorts_to_text",
    "to_compact",
    "with_viewer",
]

BUILDER_OPS: tuple[str, ...] = (
    "eq",
    "neq",
    "contains",
    "starts_with",
    "gt",
    "gte",
    "lt",
    "lte",
    "in",
    "empty",
    "not_empty",
)
"""The builder's operators: the engine's, with is_null split into "is empty" and "is not empty"."""

_OPS_OF_KIND: dict[query.Kind, tuple[str, ...]] = {
    kind: tuple(op for op in BUILDER_OPS if op in ("empty", "not_empty") or query.Op(op) in query.operators_for(kind))
    for kind in query.Kind
}
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹٫", "01234567890123456789.")
_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
_TRUE = frozenset({"true", "yes", "1", "نعم", "صح"})
_FALSE = frozenset({"false", "no", "0", "لا", "خطأ"})


@dataclass(frozen=True)
class BuilderField:
    """A name the builder offers: a query name of the engine, its label, its kind and, for select fields, the
    field (to offer its options and read their labels)."""

    name: str
    label: str
    kind: query.Kind
    field: FieldDefinition | None = None
    currency: str | None = None
    """For money: the currency whose major units people type (riyals, not halalas)."""

    @property
    def ops(self) -> tuple[str, ...]:
        return _OPS_OF_KIND[self.kind]

    def options(self, language: str) -> list[tuple[str, str]]:
        """(value, label) of a select field's options; empty for other fields."""
        if self.field is None or self.field.type not in (FieldType.SELECT, FieldType.MULTI_SELECT):
            return []
        return [(option.value, option_label(self.field, option.value, language)) for option in self.field.options]


@dataclass(frozen=True)
class BuilderRow:
    field: str
    op: str
    value: str


def builder_fields(obj: ObjectDefinition, language: str) -> list[BuilderField]:
    """The fields a person can filter on, labelled in their language (relations and JSON are left to the
    text filter: their values are ids)."""
    fields: list[BuilderField] = []
    parts = {
        "first": gettext_in("first", language),
        "last": gettext_in("last", language),
        "street": gettext_in("street", language),
        "city": gettext_in("city", language),
        "region": gettext_in("region", language),
        "postal_code": gettext_in("postal code", language),
        "country": gettext_in("country", language),
    }
    for field in obj.fields:
        label = field_label(field, language)
        kind = field.type
        if kind in (FieldType.RELATION, FieldType.JSON):
            continue
        if kind == FieldType.CURRENCY:
            currency = str(field.settings.get("default_currency") or "SAR")
            fields.append(BuilderField(f"{field.name}_amount_minor", label, query.Kind.INTEGER, field, currency))
        elif kind == FieldType.FULL_NAME:
            for part in ("first", "last"):
                fields.append(BuilderField(f"{field.name}_{part}", f"{label} · {parts[part]}", query.Kind.TEXT))
        elif kind == FieldType.ADDRESS:
            for part in ("city", "region", "country", "street", "postal_code"):
                fields.append(BuilderField(f"{field.name}_{part}", f"{label} · {parts[part]}", query.Kind.TEXT))
        else:
            query_kind = {
                FieldType.NUMBER: query.Kind.NUMBER,
                FieldType.RATING: query.Kind.INTEGER,
                FieldType.BOOLEAN: query.Kind.BOOLEAN,
                FieldType.DATE: query.Kind.DATE,
                FieldType.DATETIME: query.Kind.DATETIME,
                FieldType.MULTI_SELECT: query.Kind.TEXT_ARRAY,
            }.get(kind, query.Kind.TEXT)
            fields.append(BuilderField(field.name, label, query_kind, field))
    fields.append(BuilderField("created_at", gettext_in("Created", language), query.Kind.DATETIME))
    fields.append(BuilderField("updated_at", gettext_in("Last updated", language), query.Kind.DATETIME))
    return fields


# --- filter text <-> AST -------------------------------------------------------------------------------------------


def parse_filter_text(text: str) -> query.Filter:
    """The compact syntax, or the JSON one (what the API also accepts); `query.QueryError` with the reason."""
    stripped = text.strip()
    return query.parse_filter_json(stripped) if stripped.startswith("{") else query.parse_filter(stripped)


def _compact_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | Decimal | float):
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + ",".join(_compact_value(item) for item in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def to_compact(node: query.Filter) -> str:
    """The compact text of a filter tree (``parse_filter`` reads it back to the same tree)."""
    if isinstance(node, query.Condition):
        return f"{node.field}[{node.op}]:{_compact_value(node.value)}"
    if isinstance(node, query.Not):
        return f"not({to_compact(node.item)})"
    name = "and" if isinstance(node, query.And) else "or"
    return f"{name}({','.join(to_compact(item) for item in node.items)})"


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    if isinstance(value, list | tuple):
        return [_json_value(item) for item in value]
    return value


def filter_to_json(node: query.Filter) -> dict[str, Any]:
    """The JSON form saved views keep."""
    if isinstance(node, query.Condition):
        return {"field": node.field, "op": str(node.op), "value": _json_value(node.value)}
    if isinstance(node, query.Not):
        return {"not": filter_to_json(node.item)}
    return {"and" if isinstance(node, query.And) else "or": [filter_to_json(item) for item in node.items]}


def with_viewer(node: query.Filter, viewer: str) -> query.Filter:
    """The filter with every ``"@me"`` meaning whoever looks at the list (as saved views do)."""
    if isinstance(node, query.Condition):
        value = node.value
        if value == ME:
            value = viewer
        elif isinstance(value, tuple):
            value = tuple(viewer if item == ME else item for item in value)
        return query.Condition(node.field, node.op, value)
    if isinstance(node, query.Not):
        return query.Not(with_viewer(node.item, viewer))
    items = tuple(with_viewer(item, viewer) for item in node.items)
    return query.And(items) if isinstance(node, query.And) else query.Or(items)


# --- builder rows <-> AST -----------------------------------------------------------------------------------------


def _option_value(field: FieldDefinition | None, text: str) -> str:
    """A select option typed by its label (either language, any case) or by its value."""
    if field is None or not field.options:
        return text
    wanted = text.strip().casefold()
    for option in field.options:
        if wanted in (option.value.casefold(), option.label_en.casefold(), option.label_ar.casefold()):
            return option.value
    return text


def _typed(target: BuilderField, text: str, timezone: str) -> Any:
    """A value as the engine wants it; text the engine will refuse is passed on, so its reason is shown."""
    text = text.strip()
    kind = target.kind
    if target.currency is not None:
        try:
            amount = Decimal(text.translate(_DIGITS).replace(",", ""))
            places = numbers.get_currency_precision(target.currency)
            return int((amount.scaleb(places)).to_integral_value())
        except (InvalidOperation, ValueError):
            return text
    if kind in (query.Kind.NUMBER, query.Kind.INTEGER):
        return text.translate(_DIGITS).replace(",", "")
    if kind is query.Kind.BOOLEAN:
        lowered = text.casefold()
        return True if lowered in _TRUE else False if lowered in _FALSE else text
    if kind is query.Kind.DATE:
        return text.translate(_DIGITS)
    if kind is query.Kind.DATETIME:
        text = text.translate(_DIGITS)
        if _DATE_ONLY.fullmatch(text):
            day = date.fromisoformat(text) if _valid_date(text) else None
            if day is not None:
                moment = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(timezone))
                return moment.isoformat()
        return text
    return _option_value(target.field, text)


def _valid_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def compose_filter(rows: Iterable[BuilderRow], fields: Sequence[BuilderField], timezone: str) -> str:
    """The compact filter of the builder's rows (all must match), or "" for none. Rows without a field, or without
    a value where one is needed, are left out. Unknown fields and operators are kept as typed, so the engine's
    error names them."""
    by_name = {field.name: field for field in fields}
    conditions: list[str] = []
    for row in rows:
        name, op, text = row.field.strip(), row.op.strip(), row.value
        if not name:
            continue
        target = by_name.get(name, BuilderField(name, name, query.Kind.TEXT))
        if op in ("empty", "not_empty"):
            conditions.append(to_compact(query.Condition(name, query.Op.IS_NULL, op == "empty")))
        elif not text.strip():
            continue
        elif op == "in":
            items = tuple(_typed(target, item, timezone) for item in re.split(r"[,،]", text) if item.strip())
            conditions.append(to_compact(query.Condition(name, query.Op.IN, items)))
        else:
            conditions.append(f"{name}[{op}]:{_compact_value(_typed(target, text, timezone))}")
    if len(conditions) > 1:
        return f"and({','.join(conditions)})"
    return conditions[0] if conditions else ""


def _shown(target: BuilderField | None, value: Any, language: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if target is not None and target.currency is not None:
        try:
            places = numbers.get_currency_precision(target.currency)
            text = format(Decimal(str(value)).scaleb(-places), "f")
            return text.rstrip("0").rstrip(".") if "." in text else text
        except (InvalidOperation, ValueError):
            return str(value)
    if target is not None and target.field is not None and target.field.options:
        return option_label(target.field, str(value), language)
    return str(value)


def decompose_filter(
    node: query.Filter | None, fields: Sequence[BuilderField], language: str
) -> list[BuilderRow] | None:
    """The builder's rows for a filter, or None when the builder cannot show it (or / not / nesting)."""
    if node is None:
        return []
    items = node.items if isinstance(node, query.And) else (node,)
    if not all(isinstance(item, query.Condition) for item in items):
        return None
    by_name = {field.name: field for field in fields}
    rows: list[BuilderRow] = []
    for item in items:
        assert isinstance(item, query.Condition)
        target = by_name.get(item.field)
        if item.op is query.Op.IS_NULL:
            rows.append(BuilderRow(item.field, "empty" if item.value else "not_empty", ""))
        elif item.op is query.Op.IN and isinstance(item.value, list | tuple):
            rows.append(BuilderRow(item.field, "in", ", ".join(_shown(target, v, language) for v in item.value)))
        else:
            rows.append(BuilderRow(item.field, str(item.op), _shown(target, item.value, language)))
    return rows


# --- sorts and columns ---------------------------------------------------------------------------------------------


def sort_name(field: FieldDefinition) -> str | None:
    """The query name a column header sorts by; None for fields with no meaningful order."""
    kind = field.type
    if kind in (FieldType.RELATION, FieldType.MULTI_SELECT, FieldType.JSON):
        return None
    if kind == FieldType.CURRENCY:
        return f"{field.name}_amount_minor"
    if kind == FieldType.FULL_NAME:
        return f"{field.name}_first"
    if kind == FieldType.ADDRESS:
        return f"{field.name}_city"
    return field.name


def sorts_to_text(sorts: Sequence[query.Sort]) -> str:
    return ",".join(
        sort.field
        + (":desc" if sort.direction is query.Direction.DESC else "")
        + (":nulls_first" if sort.nulls is query.Nulls.FIRST else "")
        for sort in sorts
    )


def sorts_to_json(sorts: Sequence[query.Sort]) -> list[dict[str, str]]:
    return [{"field": sort.field, "direction": str(sort.direction), "nulls": str(sort.nulls)} for sort in sorts]


def sorts_from_json(raw: Any) -> tuple[query.Sort, ...]:
    """A saved view's sorts (already checked when the view was saved)."""
    if not isinstance(raw, list):
        return ()
    return tuple(
        query.Sort(
            str(item["field"]),
            query.Direction(item.get("direction", "asc")),
            query.Nulls(item.get("nulls", "last")),
        )
        for item in raw
        if isinstance(item, Mapping) and "field" in item
    )


def shown_columns(obj: ObjectDefinition, names: Iterable[str]) -> list[FieldDefinition]:
    """The fields of ``names`` that the table shows as columns (known, not a title field, each once)."""
    titles = {field.name for field in title_fields(obj)}
    by_name = {field.name: field for field in obj.fields}
    chosen = [by_name[name] for name in dict.fromkeys(names) if name in by_name and name not in titles]
    return chosen


def default_columns(obj: ObjectDefinition) -> list[str]:
    titles = {field.name for field in title_fields(obj)}
    return [field.name for field in obj.fields if field.name not in titles and field.type != FieldType.JSON][:6]
