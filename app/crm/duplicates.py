"""Duplicate rules and merging: people are the same person when they share a phone number or an e-mail
address, companies when they share a website. Merging keeps the primary record, fills its empty fields from the
duplicate, points every relation at the primary, and deletes the duplicate (restorable, like any delete)."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from app.crm import repository
from app.crm.fields import FieldType, column_names
from app.crm.metadata import Catalogue, ObjectDefinition
from app.crm.records import Actor, RecordNotFound, delete_record, record_to_api

__all__ = ["DUPLICATE_RULES", "CannotMerge", "find_duplicates", "merge_records"]

DUPLICATE_RULES: dict[str, tuple[str, ...]] = {
    "people": ("phone_primary", "email_primary"),
    "companies": ("domain_primary_url",),
}
"""Per object: the columns on which two live records with the same value are duplicates."""


class CannotMerge(ValueError):
    pass


async def find_duplicates(
    connection: asyncpg.Connection, obj: ObjectDefinition, record_id: uuid.UUID
) -> list[dict[str, Any]]:
    rules = DUPLICATE_RULES.get(obj.name, ())
    record = await repository.fetch_record(connection, obj, record_id)
    if record is None or record["deleted_at"] is not None:
        raise RecordNotFound(str(record_id))
    matches = {column: record[column] for column in rules if record[column]}
    rows = await repository.records_sharing(connection, obj, record_id, matches) if matches else []
    return [record_to_api(obj, row) for row in rows]


async def merge_records(
    connection: asyncpg.Connection,
    catalogue: Catalogue,
    obj: ObjectDefinition,
    primary_id: uuid.UUID,
    duplicate_id: uuid.UUID,
    actor: Actor,
) -> dict[str, Any]:
    if primary_id == duplicate_id:
        raise CannotMerge("a record cannot be merged into itself")
    async with connection.transaction():
        primary = await repository.fetch_record(connection, obj, primary_id, for_update=True)
        duplicate = await repository.fetch_record(connection, obj, duplicate_id, for_update=True)
        if primary is None or primary["deleted_at"] is not None:
            raise RecordNotFound(str(primary_id))
        if duplicate is None or duplicate["deleted_at"] is not None:
            raise RecordNotFound(str(duplicate_id))
        filled = _fill_from(obj, primary, duplicate)
        if filled:
            await repository.update_record(connection, obj, primary_id, filled)
        for other, field in _relations_to(catalogue, obj):
            await repository.repoint(connection, other, field, duplicate_id, primary_id)
        await repository.repoint_links(connection, obj.name, duplicate_id, primary_id)
        await delete_record(connection, obj, duplicate_id, actor)
        await repository.add_timeline_event(
            connection,
            object_name=obj.name,
            record_id=primary_id,
            kind="merged",
            actor=actor.as_dict(),
            diff={"merged_from": str(duplicate_id), "filled": sorted({c.rsplit("_", 1)[0] for c in filled})},
        )
        merged = await repository.fetch_record(connection, obj, primary_id)
    assert merged is not None
    return record_to_api(obj, merged)


def _fill_from(obj: ObjectDefinition, primary: asyncpg.Record, duplicate: asyncpg.Record) -> dict[str, Any]:
    """The duplicate's values for every field the primary leaves empty (a field's columns move together)."""
    filled: dict[str, Any] = {}
    for field in obj.fields:
        if field.unique:
            continue  # a unique value (a Salla id) stays with its record
        columns = column_names(field)
        if all(primary[c] in (None, "", [], {}) for c in columns) and any(duplicate[c] is not None for c in columns):
            filled.update({c: duplicate[c] for c in columns})
    return filled


def _relations_to(catalogue: Catalogue, target: ObjectDefinition) -> list[tuple[ObjectDefinition, str]]:
    return [
        (other, field.name)
        for other in catalogue.objects.values()
        for field in other.fields
        if field.type == FieldType.RELATION and field.settings.get("target") == target.name
    ]
