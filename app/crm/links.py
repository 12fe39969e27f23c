"""Links between records: a note or a task on any record, and general many-to-many relations; and everything
related to a record (linked records plus records whose relation fields point at it, such as a customer's orders)."""

from __future__ import annotations

import re
import uuid
from typing import Any

import asyncpg

from app.crm import repository
from app.crm.fields import FieldType
from app.crm.metadata import Catalogue, ObjectDefinition
from app.crm.records import Actor, RecordNotFound, record_to_api

__all__ = ["InvalidLink", "link_records", "records_related_to", "related_records", "unlink_records"]

RELATION_NAME = r"^[a-z][a-z0-9_]{0,40}$"


class InvalidLink(ValueError):
    pass


async def _require_live(connection: asyncpg.Connection, obj: ObjectDefinition, record_id: uuid.UUID) -> None:
    row = await repository.fetch_record(connection, obj, record_id)
    if row is None or row["deleted_at"] is not None:
        raise RecordNotFound(str(record_id))


async def link_records(
    connection: asyncpg.Connection,
    source: tuple[ObjectDefinition, uuid.UUID],
    target: tuple[ObjectDefinition, uuid.UUID],
    actor: Actor,
    *,
    relation: str = "related",
) -> bool:
    """Link two records (idempotent: True only the first time). Both get a timeline entry."""
    if not re.fullmatch(RELATION_NAME, relation):
        raise InvalidLink("relation must be a short snake_case name")
    if source[0].name == target[0].name and source[1] == target[1]:
        raise InvalidLink("a record cannot be linked to itself")
    async with connection.transaction():
        for obj, record_id in (source, target):
            await _require_live(connection, obj, record_id)
        created = await repository.add_link(
            connection, (source[0].name, source[1]), (target[0].name, target[1]), relation
        )
        if created:
            for (obj, record_id), (other, other_id) in ((source, target), (target, source)):
                await repository.add_timeline_event(
                    connection,
                    object_name=obj.name,
                    record_id=record_id,
                    kind="linked",
                    actor=actor.as_dict(),
                    diff={"object": other.name, "id": str(other_id), "relation": relation},
                )
    return created


async def unlink_records(
    connection: asyncpg.Connection,
    source: tuple[ObjectDefinition, uuid.UUID],
    target: tuple[ObjectDefinition, uuid.UUID],
) -> None:
    if not await repository.remove_link(connection, (source[0].name, source[1]), (target[0].name, target[1])):
        raise RecordNotFound("no such link")


async def related_records(
    connection: asyncpg.Connection,
    catalogue: Catalogue,
    obj: ObjectDefinition,
    record_id: uuid.UUID,
    *,
    limit: int = 20,
) -> dict[str, list[dict[str, Any]]]:
    """Everything related to a live record, by object; `RecordNotFound` if it is missing or deleted."""
    await _require_live(connection, obj, record_id)
    return await records_related_to(connection, catalogue, obj, record_id, limit=limit)


async def records_related_to(
    connection: asyncpg.Connection,
    catalogue: Catalogue,
    obj: ObjectDefinition,
    record_id: uuid.UUID,
    *,
    limit: int = 20,
) -> dict[str, list[dict[str, Any]]]:
    """`related_records` of a record the caller has just read and found live (the record page): without reading
    it again."""
    pointing = [
        (other, field.name)
        for other in catalogue.objects.values()
        for field in other.fields
        if field.type == FieldType.RELATION and field.settings.get("target") == obj.name
    ]
    linked, pointed = await repository.related_ids(connection, obj, record_id, pointing, limit=limit)
    found = [(catalogue.get(name), ids) for name, ids in linked.items()]
    found += [(other, ids) for (other, _column), ids in zip(pointing, pointed, strict=True)]
    related: dict[str, list[dict[str, Any]]] = {}
    for other, ids in found:
        if other is not None and ids:
            rows = await repository.live_records(connection, other, ids, limit=limit)
            related.setdefault(other.name, []).extend(record_to_api(other, row) for row in rows)
    return {name: records for name, records in related.items() if records}
