"""The objects and fields a tenant's CRM has, read from its own ``crm_objects`` and ``crm_fields`` tables."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import asyncpg

from app.crm.fields import FieldDefinition, SelectOption, column_names

__all__ = ["Catalogue", "ObjectDefinition", "load_catalogue"]


@dataclass(frozen=True)
class ObjectDefinition:
    name: str
    """The plural API name, e.g. ``people``."""
    singular: str
    table_name: str
    label_singular_en: str
    label_singular_ar: str
    label_plural_en: str
    label_plural_ar: str
    is_custom: bool
    fields: tuple[FieldDefinition, ...]

    def field(self, name: str) -> FieldDefinition | None:
        return next((field for field in self.fields if field.name == name), None)

    def columns(self) -> list[str]:
        """Every column the fields of this object occupy, in field order."""
        return [column for field in self.fields for column in column_names(field)]


@dataclass(frozen=True)
class Catalogue:
    objects: dict[str, ObjectDefinition]

    def get(self, name: str) -> ObjectDefinition | None:
        return self.objects.get(name)


def _json(value: str | None) -> Any:
    """The jsonb columns are read as text (see `load_catalogue`), whatever codec the connection has."""
    return None if value is None else json.loads(value)


def _field(row: asyncpg.Record) -> FieldDefinition:
    return FieldDefinition(
        name=row["name"],
        type=row["type"],
        label_en=row["label_en"],
        label_ar=row["label_ar"],
        required=row["required"],
        unique=row["is_unique"],
        options=tuple(SelectOption(**option) for option in _json(row["options"])),
        default=_json(row["default_value"]),
        settings=_json(row["settings"]),
        searchable=row["searchable"],
    )


async def load_catalogue(connection: asyncpg.Connection) -> Catalogue:
    objects = await connection.fetch("SELECT * FROM crm_objects ORDER BY position, name")
    # jsonb as text: a pool connection decodes jsonb itself, a bare one does not; text is the same on both.
    fields = await connection.fetch(
        "SELECT object_name, name, type, label_en, label_ar, required, is_unique, searchable, "
        "options::text AS options, default_value::text AS default_value, settings::text AS settings "
        "FROM crm_fields ORDER BY object_name, position, name"
    )
    by_object: dict[str, list[FieldDefinition]] = {}
    for row in fields:
        by_object.setdefault(row["object_name"], []).append(_field(row))
    return Catalogue(
        objects={
            row["name"]: ObjectDefinition(
                name=row["name"],
                singular=row["singular"],
                table_name=row["table_name"],
                label_singular_en=row["label_singular_en"],
                label_singular_ar=row["label_singular_ar"],
                label_plural_en=row["label_plural_en"],
                label_plural_ar=row["label_plural_ar"],
                is_custom=row["is_custom"],
                fields=tuple(by_object.get(row["name"], ())),
            )
            for row in objects
        }
    )
