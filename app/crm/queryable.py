"""What a list can filter and sort on: every field of an object, by the names the API uses.

A simple field is queryable by its own name. Composite fields are queryable by their parts: ``email`` and
``phone`` mean the primary address/number, ``domain`` the primary URL, a currency field ``total`` offers
``total_amount_minor`` and ``total_currency``, an address ``address_city`` and so on. JSON fields are not queryable.
"""

from __future__ import annotations

from app.crm.fields import FieldDefinition, FieldType
from app.crm.metadata import ObjectDefinition
from app.crm.query import Kind, QueryField

__all__ = ["query_fields"]

_SIMPLE: dict[FieldType, Kind] = {
    FieldType.TEXT: Kind.TEXT,
    FieldType.RICH_TEXT: Kind.TEXT,
    FieldType.SELECT: Kind.TEXT,
    FieldType.NUMBER: Kind.NUMBER,
    FieldType.RATING: Kind.INTEGER,
    FieldType.BOOLEAN: Kind.BOOLEAN,
    FieldType.DATE: Kind.DATE,
    FieldType.DATETIME: Kind.DATETIME,
    FieldType.RELATION: Kind.UUID,
    FieldType.MULTI_SELECT: Kind.TEXT_ARRAY,
}
_RECORD_FIELDS = (
    QueryField("created_at", "created_at", Kind.DATETIME),
    QueryField("updated_at", "updated_at", Kind.DATETIME),
    QueryField("position", "position", Kind.NUMBER),
)


def _parts(field: FieldDefinition) -> list[QueryField]:
    name = field.name
    if field.type in _SIMPLE:
        return [QueryField(name, name, _SIMPLE[field.type])]
    if field.type in (FieldType.PHONES, FieldType.EMAILS):
        return [QueryField(name, f"{name}_primary", Kind.TEXT)]
    if field.type == FieldType.LINKS:
        return [QueryField(name, f"{name}_primary_url", Kind.TEXT)]
    if field.type == FieldType.CURRENCY:
        return [
            QueryField(f"{name}_amount_minor", f"{name}_amount_minor", Kind.INTEGER),
            QueryField(f"{name}_currency", f"{name}_currency", Kind.TEXT),
        ]
    if field.type == FieldType.FULL_NAME:
        return [QueryField(f"{name}_{part}", f"{name}_{part}", Kind.TEXT) for part in ("first", "last")]
    if field.type == FieldType.ADDRESS:
        parts = ("street", "city", "region", "postal_code", "country")
        return [QueryField(f"{name}_{part}", f"{name}_{part}", Kind.TEXT) for part in parts]
    return []  # json: not queryable


def query_fields(obj: ObjectDefinition) -> list[QueryField]:
    return [*_RECORD_FIELDS, *(part for field in obj.fields for part in _parts(field))]
