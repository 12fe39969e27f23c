"""The rules of records: validation through the field types, who changed what (timeline), soft delete and
restore, and the API shape of a record. Every record operation of the dashboard, the REST API, Salla sync
and the widget goes through here."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from app.crm import query, repository
from app.crm.fields import FieldDefinition, FieldType, RecordInvalid, column_names, to_api, validate_record
from app.crm.metadata import ObjectDefinition
from app.crm.queryable import query_fields
from app.crm.search_text import search_text

__all__ = [
    "MAX_BATCH",
    "TIMELINE_LIMIT",
    "Actor",
    "BatchInvalid",
    "RecordNotFound",
    "api_columns",
    "api_shape",
    "create_record",
    "create_records",
    "delete_record",
    "delete_records",
    "get_record",
    "get_record_and_timeline",
    "list_records",
    "list_records_by",
    "move_record",
    "record_to_api",
    "records_by_ids",
    "restore_record",
    "search_text_of",
    "timeline",
    "update_record",
    "update_records",
]

ACTOR_SOURCES = ("user", "api_key", "salla", "widget", "import", "system")


class RecordNotFound(LookupError):
    pass


@dataclass(frozen=True)
class Actor:
    """Who makes a change: ``source`` is one of user, api_key, salla, widget, import, system."""

    source: str
    id: str | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        if self.source not in ACTOR_SOURCES:
            raise ValueError(f"unknown actor source {self.source!r}")

    def as_dict(self) -> dict[str, str | None]:
        return {"source": self.source, "id": self.id, "name": self.name}


def _actor_columns(prefix: str, actor: Actor) -> dict[str, Any]:
    return {f"{prefix}_source": actor.source, f"{prefix}_id": actor.id, f"{prefix}_name": actor.name}


def search_text_of(obj: ObjectDefinition, row: Mapping[str, Any]) -> str:
    """What a record's ``search_text`` column holds: its searchable fields, normalised, and phone forms."""
    searchable = [field for field in obj.fields if field.searchable]
    texts = [
        str(row.get(column) or "")
        for field in searchable
        if field.type != FieldType.PHONES
        for column in column_names(field)
        if isinstance(row.get(column), str)
    ]
    phones = [row.get(f"{field.name}_primary") for field in searchable if field.type == FieldType.PHONES]
    return search_text(texts, phones=[phone for phone in phones if isinstance(phone, str)])


_UNIQUE_KEY = re.compile(r"Key \((?:\")?([a-z0-9_]+)")


def _already_used(obj: ObjectDefinition, error: asyncpg.UniqueViolationError) -> RecordInvalid:
    """A unique field's value that another record already has, as a field error (not a 500)."""
    match = _UNIQUE_KEY.search(error.detail or "")
    column = match[1] if match else ""
    field = next((f.name for f in obj.fields if column in column_names(f)), column or "record")
    return RecordInvalid({field: "is already used by another record"})


def record_to_api(obj: ObjectDefinition, row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        **{field.name: to_api(field, row) for field in obj.fields},
        "position": row["position"],
        "created_at": row["created_at"].isoformat(),
        "updated_at": row["updated_at"].isoformat(),
        "created_by": {k: row[f"created_by_{k}"] for k in ("source", "id", "name")},
        "updated_by": {k: row[f"updated_by_{k}"] for k in ("source", "id", "name")},
        "deleted_at": row["deleted_at"].isoformat() if row["deleted_at"] else None,
    }


def _api_values(fields: Sequence[FieldDefinition], row: Mapping[str, Any]) -> dict[str, Any]:
    return {field.name: to_api(field, row) for field in fields}


_RECORD_COLUMNS = (
    "position",
    "created_at",
    "updated_at",
    "created_by_source",
    "created_by_id",
    "created_by_name",
    "updated_by_source",
    "updated_by_id",
    "updated_by_name",
    "deleted_at",
)
"""The columns every record has besides its id and its fields' (`record_to_api` shows them)."""


def api_columns(obj: ObjectDefinition, fields: Sequence[FieldDefinition] | None = None) -> list[str]:
    """The columns `api_shape` needs: the whole record's, or ``id`` and those of ``fields``."""
    if fields is None:
        return ["id", *obj.columns(), *_RECORD_COLUMNS]
    return ["id", *(column for field in fields for column in column_names(field))]


def api_shape(
    obj: ObjectDefinition, row: Mapping[str, Any], fields: Sequence[FieldDefinition] | None = None
) -> dict[str, Any]:
    """A row (its columns by name) in API shape: the whole record, or ``id`` and ``fields`` only."""
    if fields is None:
        return record_to_api(obj, row)
    return {"id": str(row["id"]), **_api_values(fields, row)}


async def create_record(
    connection: asyncpg.Connection, obj: ObjectDefinition, data: Mapping[str, Any], actor: Actor
) -> dict[str, Any]:
    """Raises `app.crm.fields.RecordInvalid` with every bad field and its reason."""
    values = validate_record(obj.fields, data, partial=False)
    values["search_text"] = search_text_of(obj, values)
    values.update(_actor_columns("created_by", actor) | _actor_columns("updated_by", actor))
    async with connection.transaction():
        try:
            row = await repository.insert_record(connection, obj, values)
        except asyncpg.UniqueViolationError as error:
            raise _already_used(obj, error) from None
        created = {name: value for name, value in _api_values(obj.fields, row).items() if value not in (None, [], {})}
        await repository.add_timeline_event(
            connection,
            object_name=obj.name,
            record_id=row["id"],
            kind="created",
            actor=actor.as_dict(),
            diff={name: [None, value] for name, value in created.items()},
        )
    return record_to_api(obj, row)


@dataclass(frozen=True)
class RecordList:
    records: list[dict[str, Any]]
    next_cursor: str | None
    total: int | None


async def list_records(
    connection: asyncpg.Connection,
    obj: ObjectDefinition,
    *,
    filter_text: str | None,
    sort_text: str | None,
    limit_text: str | None,
    cursor: str | None,
    with_total: bool,
) -> RecordList:
    """One page of an object's records, filtered and sorted through the one query layer.
    Raises `app.crm.query.QueryError` with the reason for any bad filter, sort, limit or cursor."""
    parsed = None
    if filter_text:
        stripped = filter_text.strip()
        parsed = query.parse_filter_json(stripped) if stripped.startswith("{") else query.parse_filter(stripped)
    return await list_records_by(
        connection,
        obj,
        filter=parsed,
        sorts=query.parse_sorts(sort_text),
        limit=query.parse_limit(limit_text),
        cursor=cursor or None,
        with_total=with_total,
    )


async def list_records_by(
    connection: asyncpg.Connection,
    obj: ObjectDefinition,
    *,
    filter: query.Filter | None,
    sorts: tuple[query.Sort, ...],
    limit: int,
    cursor: str | None,
    with_total: bool,
) -> RecordList:
    """`list_records` for a filter and sorts already parsed (saved views, other services)."""
    catalogue = query.make_catalogue(query_fields(obj))
    async with connection.transaction(isolation="repeatable_read", readonly=True):
        page = await query.fetch_page(connection, obj.table_name, catalogue, filter, sorts, limit, cursor, with_total)
    return RecordList([record_to_api(obj, row) for row in page.rows], page.next_cursor, page.total)


async def records_by_ids(
    connection: asyncpg.Connection,
    obj: ObjectDefinition,
    ids: Sequence[uuid.UUID],
    *,
    fields: Sequence[FieldDefinition] | None = None,
) -> list[dict[str, Any]]:
    """The live (not deleted) records among ``ids``, in API shape (only ``id`` and ``fields`` when given: a reader
    that shows a few fields need not convert thirty); at most 1000."""
    rows = await repository.live_records(connection, obj, ids[:1000], limit=1000)
    return [api_shape(obj, row, fields) for row in rows]


MAX_BATCH = 200


class BatchInvalid(ValueError):
    """Some records of a batch are not valid: ``errors`` maps each bad record's index to its field errors.
    Nothing of the batch is stored."""

    def __init__(self, errors: dict[int, dict[str, str]]) -> None:
        super().__init__(f"{len(errors)} record(s) of the batch are not valid")
        self.errors = errors


def _check_batch_size(count: int) -> None:
    if not 1 <= count <= MAX_BATCH:
        raise BatchInvalid({-1: {"batch": f"send 1 to {MAX_BATCH} records at a time, not {count}"}})


async def create_records(
    connection: asyncpg.Connection, obj: ObjectDefinition, items: Sequence[Mapping[str, Any]], actor: Actor
) -> list[dict[str, Any]]:
    """All or nothing: every record is checked first, then all are stored in one transaction."""
    _check_batch_size(len(items))
    errors: dict[int, dict[str, str]] = {}
    for index, item in enumerate(items):
        try:
            validate_record(obj.fields, item, partial=False)
        except RecordInvalid as error:
            errors[index] = error.errors
    if errors:
        raise BatchInvalid(errors)
    async with connection.transaction():
        return [await create_record(connection, obj, item, actor) for item in items]


async def update_records(
    connection: asyncpg.Connection,
    obj: ObjectDefinition,
    ids: list[uuid.UUID],
    changes: Mapping[str, Any],
    actor: Actor,
) -> list[dict[str, Any]]:
    """The same changes to many records, all or nothing; a missing id fails the whole batch."""
    _check_batch_size(len(ids))
    async with connection.transaction():
        return [await update_record(connection, obj, record_id, changes, actor) for record_id in dict.fromkeys(ids)]


async def delete_records(
    connection: asyncpg.Connection, obj: ObjectDefinition, ids: list[uuid.UUID], actor: Actor
) -> None:
    _check_batch_size(len(ids))
    async with connection.transaction():
        for record_id in dict.fromkeys(ids):
            await delete_record(connection, obj, record_id, actor)


async def get_record(
    connection: asyncpg.Connection, obj: ObjectDefinition, record_id: uuid.UUID, *, include_deleted: bool = False
) -> dict[str, Any]:
    row = await repository.fetch_record(connection, obj, record_id)
    if row is None or (row["deleted_at"] is not None and not include_deleted):
        raise RecordNotFound(str(record_id))
    return record_to_api(obj, row)


TIMELINE_LIMIT = 50
"""The newest events a timeline shows (the API's and a record page's)."""


async def timeline(
    connection: asyncpg.Connection, obj: ObjectDefinition, record_id: uuid.UUID, *, limit: int = TIMELINE_LIMIT
) -> list[dict[str, Any]]:
    """What happened to a record, newest first (a deleted record keeps its history)."""
    row, events = await repository.fetch_record_with_timeline(connection, obj, record_id, limit=limit)
    if row is None:
        raise RecordNotFound(str(record_id))
    return [_event_to_api(event) for event in events]


async def get_record_and_timeline(
    connection: asyncpg.Connection, obj: ObjectDefinition, record_id: uuid.UUID, *, limit: int = TIMELINE_LIMIT
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """`get_record` and `timeline` of a live record, read together (a record page shows both)."""
    row, events = await repository.fetch_record_with_timeline(connection, obj, record_id, limit=limit)
    if row is None or row["deleted_at"] is not None:
        raise RecordNotFound(str(record_id))
    return record_to_api(obj, row), [_event_to_api(event) for event in events]


def _event_to_api(event: Mapping[str, Any]) -> dict[str, Any]:
    """A timeline event as the API shows it, from its columns as JSON (the time in UTC, as the record's own are)."""
    return {
        "at": datetime.fromisoformat(event["happened_at"]).astimezone(UTC).isoformat(),
        "kind": event["kind"],
        "actor": {"source": event["actor_source"], "id": event["actor_id"], "name": event["actor_name"]},
        "changes": event["diff"],
        "summary": event["summary"],
    }


async def update_record(
    connection: asyncpg.Connection, obj: ObjectDefinition, record_id: uuid.UUID, data: Mapping[str, Any], actor: Actor
) -> dict[str, Any]:
    """Change the given fields only; the timeline gets the fields whose value really changed."""
    values = validate_record(obj.fields, data, partial=True)
    async with connection.transaction():
        current = await repository.fetch_record(connection, obj, record_id, for_update=True)
        if current is None or current["deleted_at"] is not None:
            raise RecordNotFound(str(record_id))
        merged = {**dict(current), **values}
        values["search_text"] = search_text_of(obj, merged)
        values.update(_actor_columns("updated_by", actor))
        try:
            row = await repository.update_record(connection, obj, record_id, values)
        except asyncpg.UniqueViolationError as error:
            raise _already_used(obj, error) from None
        before, after = _api_values(obj.fields, current), _api_values(obj.fields, row)
        diff = {name: [before[name], after[name]] for name in after if before[name] != after[name]}
        if diff:
            await repository.add_timeline_event(
                connection, object_name=obj.name, record_id=record_id, kind="updated", actor=actor.as_dict(), diff=diff
            )
    return record_to_api(obj, row)


async def delete_record(
    connection: asyncpg.Connection, obj: ObjectDefinition, record_id: uuid.UUID, actor: Actor
) -> None:
    """Soft delete: the record disappears from lists and lookups until it is restored."""
    await _set_deleted(connection, obj, record_id, actor, deleted=True)


async def restore_record(
    connection: asyncpg.Connection, obj: ObjectDefinition, record_id: uuid.UUID, actor: Actor
) -> dict[str, Any]:
    return await _set_deleted(connection, obj, record_id, actor, deleted=False)


async def _set_deleted(
    connection: asyncpg.Connection, obj: ObjectDefinition, record_id: uuid.UUID, actor: Actor, *, deleted: bool
) -> dict[str, Any]:
    async with connection.transaction():
        current = await repository.fetch_record(connection, obj, record_id, for_update=True)
        if current is None or (current["deleted_at"] is not None) == deleted:
            raise RecordNotFound(str(record_id))
        row = await repository.set_deleted(connection, obj, record_id, deleted, _actor_columns("updated_by", actor))
        await repository.add_timeline_event(
            connection,
            object_name=obj.name,
            record_id=record_id,
            kind="deleted" if deleted else "restored",
            actor=actor.as_dict(),
            diff={},
        )
    return record_to_api(obj, row)


_POSITION_GAP = 1024.0
_SMALLEST_GAP = 1e-6


async def move_record(
    connection: asyncpg.Connection,
    obj: ObjectDefinition,
    record_id: uuid.UUID,
    field_name: str,
    value: str | None,
    actor: Actor,
    *,
    after: uuid.UUID | None = None,
    before: uuid.UUID | None = None,
) -> dict[str, Any]:
    """Put a record into a column of a board: its select field ``field_name`` becomes ``value`` (None empties it)
    and its ``position`` falls right after the record ``after``, else right before ``before``, else at the end of
    the column (a neighbour that is not in that column is ignored). Positions are fractional; when two neighbours
    are too close the column is renumbered. A change of value is written to the timeline like any update; a new
    place in the same column is not. Raises `RecordInvalid` (not a select field, unknown option) or
    `RecordNotFound`, and then changes nothing."""
    field = obj.field(field_name)
    if field is None or field.type != FieldType.SELECT:
        raise RecordInvalid({field_name or "field": "is not a select field of this object"})
    column_value = validate_record(obj.fields, {field.name: value}, partial=True)[field.name]
    async with connection.transaction():
        current = await repository.fetch_record(connection, obj, record_id, for_update=True)
        if current is None or current["deleted_at"] is not None:
            raise RecordNotFound(str(record_id))
        await repository.lock_column(connection, obj, field.name, column_value)
        position = await _position_in_column(connection, obj, field.name, column_value, record_id, after, before)
        if current[field.name] != column_value:
            await update_record(connection, obj, record_id, {field.name: column_value}, actor)
        row = await repository.set_position(connection, obj, record_id, position)
    return record_to_api(obj, row)


async def _position_in_column(
    connection: asyncpg.Connection,
    obj: ObjectDefinition,
    column: str,
    value: str | None,
    record_id: uuid.UUID,
    after: uuid.UUID | None,
    before: uuid.UUID | None,
) -> float:
    for _attempt in range(2):
        low = high = None
        if after is not None:
            low = await repository.record_in_column(connection, obj, column, value, after, exclude=record_id)
        if low is not None:
            high = await repository.column_neighbour(
                connection, obj, column, value, anchor=low, forward=True, exclude=record_id
            )
        else:
            if before is not None:
                high = await repository.record_in_column(connection, obj, column, value, before, exclude=record_id)
            low = await repository.column_neighbour(
                connection, obj, column, value, anchor=high, forward=False, exclude=record_id
            )
        if low is None and high is None:
            return 0.0
        if high is None:
            assert low is not None
            return float(low["position"]) + _POSITION_GAP
        if low is None:
            return float(high["position"]) - _POSITION_GAP
        middle = (float(low["position"]) + float(high["position"])) / 2
        if float(high["position"]) - float(low["position"]) > _SMALLEST_GAP and low["position"] < middle:
            return middle
        await repository.renumber_column(connection, obj, column, value, gap=_POSITION_GAP, exclude=record_id)
    raise AssertionError("a renumbered column always has room")  # pragma: no cover
