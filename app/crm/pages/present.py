"""How records look on a page: a field's value as text/HTML in the viewer's language, a record's title, and the
labels of related records (fetched in one query per target object, never per row)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import asyncpg
from markupsafe import Markup, escape

from app.crm import records
from app.crm.fields import FieldDefinition, FieldType, sanitize_rich_text
from app.crm.metadata import Catalogue, ObjectDefinition
from app.lib.i18n import format_date, format_datetime, format_money, format_number, gettext, use_language

__all__ = [
    "field_label",
    "gettext_in",
    "object_label",
    "option_label",
    "record_title",
    "related_titles",
    "show",
    "shower",
    "title_fields",
]

_TITLE_CANDIDATES = ("name", "title", "reference", "subject", "sku")


def object_label(obj: ObjectDefinition, language: str, *, plural: bool = True) -> str:
    if plural:
        return obj.label_plural_ar if language == "ar" else obj.label_plural_en
    return obj.label_singular_ar if language == "ar" else obj.label_singular_en


def field_label(field: FieldDefinition, language: str) -> str:
    return field.label_ar if language == "ar" else field.label_en


def option_label(field: FieldDefinition, value: str | None, language: str) -> str:
    for option in field.options:
        if option.value == value:
            return option.label_ar if language == "ar" else option.label_en
    return value or ""


def title_fields(obj: ObjectDefinition) -> tuple[FieldDefinition, ...]:
    """The fields that name a record: first and last name for people, else name/title/reference...
    (remembered per object: a list page asks for every row)."""
    known = _title_fields.get(id(obj))
    if known is not None and known[0] is obj:
        return known[1]
    if len(_title_fields) >= _TITLE_FIELDS_LIMIT:
        _title_fields.clear()
    found = _find_title_fields(obj)
    _title_fields[id(obj)] = (obj, found)
    return found


_TITLE_FIELDS_LIMIT = 2000
_title_fields: dict[int, tuple[ObjectDefinition, tuple[FieldDefinition, ...]]] = {}
"""By the object's identity (catalogues are immutable, and a changed one is a new object); the object is kept with
its answer, so an identity is never mistaken for another's."""


def _find_title_fields(obj: ObjectDefinition) -> tuple[FieldDefinition, ...]:
    first, last = obj.field("first_name"), obj.field("last_name")
    if first is not None and last is not None:
        return (first, last)
    for candidate in _TITLE_CANDIDATES:
        field = obj.field(candidate)
        if field is not None and field.type == FieldType.TEXT:
            return (field,)
    full_name = next((field for field in obj.fields if field.type == FieldType.FULL_NAME), None)
    if full_name is not None:
        return (full_name,)
    text = next((field for field in obj.fields if field.type == FieldType.TEXT), None)
    return (text,) if text is not None else ()


def record_title(obj: ObjectDefinition, record: Mapping[str, Any], language: str) -> str:
    """A record's name as people say it; "Untitled" when it has none."""
    parts: list[str] = []
    for field in title_fields(obj):
        value = record.get(field.name)
        if isinstance(value, Mapping):
            parts.extend(str(part) for part in value.values() if part)
        elif value:
            parts.append(str(value))
    return " ".join(parts) or gettext_in("Untitled", language)


def gettext_in(message: str, language: str) -> str:
    with use_language(language):
        return gettext(message)


async def related_titles(
    connection: asyncpg.Connection,
    catalogue: Catalogue,
    obj: ObjectDefinition,
    rows: Iterable[Mapping[str, Any]],
    language: str,
) -> dict[str, str]:
    """``{related id: title}`` for every relation value in ``rows``: one query per target object."""
    wanted: dict[str, set[uuid.UUID]] = {}
    rows = list(rows)
    for field in obj.fields:
        target = field.settings.get("target") if field.type == FieldType.RELATION else None
        if not target or catalogue.get(target) is None:
            continue
        for row in rows:
            value = row.get(field.name)
            if value:
                wanted.setdefault(target, set()).add(uuid.UUID(str(value)))
    titles: dict[str, str] = {}
    for target, ids in wanted.items():
        target_obj = catalogue.get(target)
        assert target_obj is not None
        for related in await records.records_by_ids(connection, target_obj, list(ids)):
            titles[str(related["id"])] = record_title(target_obj, related, language)
    return titles


def show(field: FieldDefinition, value: Any, language: str, *, titles: Mapping[str, str] | None = None) -> Markup:
    """A field's API value as safe HTML for a table cell or a record page (empty when there is no value)."""
    return shower(field, language, titles=titles)(value)


Shower = Callable[[Any], Markup]


def shower(field: FieldDefinition, language: str, *, titles: Mapping[str, str] | None = None) -> Shower:
    """`show` for one field, its kind looked at once: a list page formats a column fifty times."""
    show_value = _SHOWERS.get(field.type, _show_text)(field, language, titles or {})

    def show_field(value: Any) -> Markup:
        if value is None or value == [] or value == "":
            return _EMPTY
        return show_value(value)

    return show_field


_EMPTY = Markup("")


def _show_text(_field: FieldDefinition, _language: str, _titles: Mapping[str, str]) -> Shower:
    return lambda value: escape(str(value))


def _show_currency(_field: FieldDefinition, language: str, _titles: Mapping[str, str]) -> Shower:
    return lambda value: escape(format_money(value["amount_minor"], value["currency"], language))


def _show_number(field: FieldDefinition, language: str, _titles: Mapping[str, str]) -> Shower:
    decimals = field.settings.get("decimals")
    return lambda value: escape(format_number(value, language, decimals=decimals))


def _show_date(_field: FieldDefinition, language: str, _titles: Mapping[str, str]) -> Shower:
    return lambda value: escape(format_date(value, language))


def _show_datetime(_field: FieldDefinition, language: str, _titles: Mapping[str, str]) -> Shower:
    return lambda value: escape(format_datetime(value, language))


def _show_boolean(_field: FieldDefinition, language: str, _titles: Mapping[str, str]) -> Shower:
    yes, no = escape(gettext_in("Yes", language)), escape(gettext_in("No", language))
    return lambda value: yes if value else no


def _show_select(field: FieldDefinition, language: str, _titles: Mapping[str, str]) -> Shower:
    return lambda value: _chip(field, value, language)


def _show_multi_select(field: FieldDefinition, language: str, _titles: Mapping[str, str]) -> Shower:
    return lambda value: Markup(" ").join(_chip(field, item, language) for item in value)


def _show_contact(field: FieldDefinition, _language: str, _titles: Mapping[str, str]) -> Shower:
    scheme = "mailto:" if field.type == FieldType.EMAILS else "tel:"

    def contact(value: Any) -> Markup:
        primary = escape(value["primary"])  # plain concatenation: Markup.format costs ~10x more, 50 rows a page
        more = len(value.get("additional") or [])
        extra = f' <small class="muted">+{more}</small>' if more else ""
        return Markup(f'<a href="{scheme}{primary}" dir="ltr">{primary}</a>{extra}')  # noqa: S704 - escaped above

    return contact


def _show_link(_field: FieldDefinition, _language: str, _titles: Mapping[str, str]) -> Shower:
    def link(value: Any) -> Markup:
        url = value["primary_url"]
        return Markup('<a href="{}" rel="noopener noreferrer" target="_blank" dir="ltr">{}</a>').format(
            url, value.get("primary_label") or url
        )

    return link


def _show_parts(_field: FieldDefinition, _language: str, _titles: Mapping[str, str]) -> Shower:
    return lambda value: escape(" ".join(str(part) for part in value.values() if part))


def _show_rating(_field: FieldDefinition, _language: str, _titles: Mapping[str, str]) -> Shower:
    return lambda value: Markup('<span class="rating" aria-label="{0}/5">{1}</span>').format(value, "★" * int(value))


_NO_TITLE = Markup('<span class="muted">—</span>')


def _show_relation(_field: FieldDefinition, _language: str, titles: Mapping[str, str]) -> Shower:
    def relation(value: Any) -> Markup:
        title = titles.get(str(value))
        return escape(title) if title else _NO_TITLE

    return relation


def _show_rich_text(_field: FieldDefinition, _language: str, _titles: Mapping[str, str]) -> Shower:
    return lambda value: Markup(sanitize_rich_text(str(value)))  # noqa: S704 - sanitised again, whoever wrote it


def _show_json(_field: FieldDefinition, _language: str, _titles: Mapping[str, str]) -> Shower:
    return lambda value: Markup("<code>{}</code>").format(str(value)[:200])


_SHOWERS: dict[FieldType, Callable[[FieldDefinition, str, Mapping[str, str]], Shower]] = {
    FieldType.CURRENCY: _show_currency,
    FieldType.NUMBER: _show_number,
    FieldType.DATE: _show_date,
    FieldType.DATETIME: _show_datetime,
    FieldType.BOOLEAN: _show_boolean,
    FieldType.SELECT: _show_select,
    FieldType.MULTI_SELECT: _show_multi_select,
    FieldType.EMAILS: _show_contact,
    FieldType.PHONES: _show_contact,
    FieldType.LINKS: _show_link,
    FieldType.FULL_NAME: _show_parts,
    FieldType.ADDRESS: _show_parts,
    FieldType.RATING: _show_rating,
    FieldType.RELATION: _show_relation,
    FieldType.RICH_TEXT: _show_rich_text,
    FieldType.JSON: _show_json,
}


def _chip(field: FieldDefinition, value: str, language: str) -> Markup:
    color = next((option.color for option in field.options if option.value == value), "gray")
    label = escape(option_label(field, value, language))
    return Markup(f'<span class="chip chip-{escape(color)}">{label}</span>')  # noqa: S704 - escaped here
