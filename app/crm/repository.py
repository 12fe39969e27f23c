"""SQL for records of any object: one set of statements for every table, built from the catalogue.

Table and column names come from the tenant's own catalogue and are quoted; every value is a bound parameter.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg

from app.crm.fields import quote_ident
from app.crm.metadata import ObjectDefinition

__all__ = [
    "add_link",
    "add_timeline_event",
    "column_neighbour",
    "fetch_record",
    "fetch_record_with_timeline",
    "insert_record",
    "linked_ids",
    "live_records",
    "lock_column",
    "record_in_column",
    "records_sharing",
    "related_ids",
    "remove_link",
    "renumber_column",
    "repoint",
    "repoint_links",
    "set_deleted",
    "set_position",
    "update_record",
]


def _table(obj: ObjectDefinition) -> str:
    return quote_ident(obj.table_name)


async def insert_record(
    connection: asyncpg.Connection, obj: ObjectDefinition, values: Mapping[str, Any]
) -> asyncpg.Record:
    names = list(values)
    placeholders = ", ".join(f"${n}" for n in range(1, len(names) + 1))
    statement = (
        f"INSERT INTO {_table(obj)} ({', '.join(quote_ident(name) for name in names)}) "  # noqa: S608 (quoted names)
        f"VALUES ({placeholders}) RETURNING *"
    )
    row: asyncpg.Record = await connection.fetchrow(statement, *values.values())
    return row


async def fetch_record(
    connection: asyncpg.Connection, obj: ObjectDefinition, record_id: uuid.UUID, *, for_update: bool = False
) -> asyncpg.Record | None:
    lock = " FOR UPDATE" if for_update else ""
    row: asyncpg.Record | None = await connection.fetchrow(
        f"SELECT * FROM {_table(obj)} WHERE id = $1{lock}",  # noqa: S608 (quoted names)
        record_id,
    )
    return row


async def update_record(
    connection: asyncpg.Connection, obj: ObjectDefinition, record_id: uuid.UUID, values: Mapping[str, Any]
) -> asyncpg.Record:
    names = list(values)
    assignments = ", ".join(f"{quote_ident(name)} = ${n}" for n, name in enumerate(names, start=2))
    row: asyncpg.Record = await connection.fetchrow(
        f"UPDATE {_table(obj)} SET {assignments}, updated_at = now() WHERE id = $1 RETURNING *",  # noqa: S608
        record_id,
        *values.values(),
    )
    return row


async def set_deleted(
    connection: asyncpg.Connection,
    obj: ObjectDefinition,
    record_id: uuid.UUID,
    deleted: bool,
    actor_columns: Mapping[str, Any],
) -> asyncpg.Record:
    """Soft delete (or restore) with the actor columns set."""
    names = list(actor_columns)
    assignments = ", ".join(f"{quote_ident(name)} = ${n}" for n, name in enumerate(names, start=2))
    deleted_at = "now()" if deleted else "NULL"
    row: asyncpg.Record = await connection.fetchrow(
        f"UPDATE {_table(obj)} SET deleted_at = {deleted_at}, updated_at = now(), {assignments} "  # noqa: S608
        "WHERE id = $1 RETURNING *",
        record_id,
        *actor_columns.values(),
    )
    return row


async def records_sharing(
    connection: asyncpg.Connection, obj: ObjectDefinition, record_id: uuid.UUID, values: Mapping[str, Any]
) -> Sequence[asyncpg.Record]:
    """Other live records with the same value in any of the given columns."""
    conditions = " OR ".join(f"{quote_ident(column)} = ${n}" for n, column in enumerate(values, start=2))
    rows: Sequence[asyncpg.Record] = await connection.fetch(
        f"SELECT * FROM {_table(obj)} WHERE id <> $1 AND deleted_at IS NULL AND ({conditions}) "  # noqa: S608
        "ORDER BY created_at LIMIT 20",
        record_id,
        *values.values(),
    )
    return rows


async def repoint(
    connection: asyncpg.Connection, obj: ObjectDefinition, column: str, old: uuid.UUID, new: uuid.UUID
) -> None:
    """Every record of ``obj`` whose relation ``column`` points at ``old`` now points at ``new``."""
    await connection.execute(
        f"UPDATE {_table(obj)} SET {quote_ident(column)} = $2, updated_at = now() "  # noqa: S608
        f"WHERE {quote_ident(column)} = $1",
        old,
        new,
    )


async def repoint_links(connection: asyncpg.Connection, object_name: str, old: uuid.UUID, new: uuid.UUID) -> None:
    """Links from or to ``old`` move to ``new``; a link ``new`` already has is dropped instead of doubled."""
    for side in ("source", "target"):
        await connection.execute(
            f"DELETE FROM record_links l WHERE l.{side}_object = $1 AND l.{side}_id = $2 AND EXISTS ("  # noqa: S608
            f"SELECT 1 FROM record_links k WHERE k.{side}_object = $1 AND k.{side}_id = $3 AND "
            + (
                "k.target_object = l.target_object AND k.target_id = l.target_id"
                if side == "source"
                else "k.source_object = l.source_object AND k.source_id = l.source_id"
            )
            + " AND k.relation = l.relation)",
            object_name,
            old,
            new,
        )
        await connection.execute(
            f"UPDATE record_links SET {side}_id = $3 WHERE {side}_object = $1 AND {side}_id = $2",  # noqa: S608
            object_name,
            old,
            new,
        )


async def add_link(
    connection: asyncpg.Connection, source: tuple[str, uuid.UUID], target: tuple[str, uuid.UUID], relation: str
) -> bool:
    """True if the link is new."""
    status: str = await connection.execute(
        "INSERT INTO record_links (source_object, source_id, target_object, target_id, relation) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        *source,
        *target,
        relation,
    )
    return status.endswith(" 1")


async def remove_link(
    connection: asyncpg.Connection, source: tuple[str, uuid.UUID], target: tuple[str, uuid.UUID]
) -> bool:
    status: str = await connection.execute(
        "DELETE FROM record_links WHERE (source_object, source_id, target_object, target_id) IN "
        "(($1, $2, $3, $4), ($3, $4, $1, $2))",
        *source,
        *target,
    )
    return not status.endswith(" 0")


_LINKED = (
    "SELECT target_object AS object, target_id AS id FROM record_links WHERE source_object = $1 AND source_id = $2"
    " UNION SELECT source_object, source_id FROM record_links WHERE target_object = $1 AND target_id = $2"
)
"""The records linked to record $2 of object $1, either way round."""


async def linked_ids(
    connection: asyncpg.Connection, object_name: str, record_id: uuid.UUID
) -> dict[str, list[uuid.UUID]]:
    """The records linked to this one, either way round, by object."""
    rows = await connection.fetch(_LINKED, object_name, record_id)
    linked: dict[str, list[uuid.UUID]] = {}
    for row in rows:
        linked.setdefault(row["object"], []).append(row["id"])
    return linked


async def live_records(
    connection: asyncpg.Connection, obj: ObjectDefinition, ids: Sequence[uuid.UUID], *, limit: int
) -> Sequence[asyncpg.Record]:
    """The live records among ``ids``, the most recently updated first, at most ``limit``."""
    if len(ids) > limit:  # the newest, chosen by the database
        newest: Sequence[asyncpg.Record] = await connection.fetch(
            f"SELECT * FROM {_table(obj)} WHERE id = ANY($1::uuid[]) AND deleted_at IS NULL "  # noqa: S608
            "ORDER BY updated_at DESC LIMIT $2",
            list(ids),
            limit,
        )
        return newest
    # Every one of them, put in order here: with the ORDER BY, PostgreSQL planned the statement anew on every call
    # (it keeps one generic plan only while that looks no dearer than a plan for the values): 0.08 ms of its CPU.
    # The LIMIT can cut nothing here, but stays: without it too, PostgreSQL chose a new plan every time (measured;
    # tests/crm/test_it_plans_its_reads_once.py).
    rows = await connection.fetch(
        f"SELECT * FROM {_table(obj)} WHERE id = ANY($1::uuid[]) AND deleted_at IS NULL LIMIT $2",  # noqa: S608
        list(ids),
        limit,
    )
    return sorted(rows, key=_updated_at, reverse=True)


def _updated_at(row: asyncpg.Record) -> Any:
    return row["updated_at"]


async def related_ids(
    connection: asyncpg.Connection,
    obj: ObjectDefinition,
    record_id: uuid.UUID,
    pointing: Sequence[tuple[ObjectDefinition, str]],
    *,
    limit: int,
) -> tuple[dict[str, list[uuid.UUID]], list[list[uuid.UUID]]]:
    """In one statement: the records linked to this one (either way round, by object), and for each (object,
    relation column) in ``pointing`` the ids of its newest ``limit`` live records whose column is this record (a
    customer's orders, say). A record page asks this, then reads only the objects that have some."""
    statement = f"SELECT -1 AS part, object, id FROM ({_LINKED}) AS linked"  # noqa: S608 (a constant)
    for part, (other, column) in enumerate(pointing):
        statement += (
            f" UNION ALL (SELECT {part}, NULL, id FROM {_table(other)} WHERE {quote_ident(column)} = $2"  # noqa: S608
            " AND deleted_at IS NULL ORDER BY updated_at DESC LIMIT $3)"
        )
    arguments: tuple[Any, ...] = (obj.name, record_id, limit) if pointing else (obj.name, record_id)
    linked: dict[str, list[uuid.UUID]] = {}
    pointed: list[list[uuid.UUID]] = [[] for _ in pointing]
    for row in await connection.fetch(statement, *arguments):
        if row["part"] < 0:
            linked.setdefault(row["object"], []).append(row["id"])
        else:
            pointed[row["part"]].append(row["id"])
    return linked, pointed


async def add_timeline_event(
    connection: asyncpg.Connection,
    *,
    object_name: str,
    record_id: uuid.UUID,
    kind: str,
    actor: Mapping[str, str | None],
    diff: Mapping[str, Any],
    summary: str = "",
) -> None:
    await connection.execute(
        "INSERT INTO timeline_events (object_name, record_id, kind, actor_source, actor_id, actor_name, diff, summary)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        object_name,
        record_id,
        kind,
        actor["source"],
        actor["id"],
        actor["name"],
        json.loads(json.dumps(diff, default=str)),  # plain JSON values: the pool's codec encodes them
        summary,
    )


_NEWEST_EVENTS = "timeline:newest"
"""The column holding a record's newest timeline events in `fetch_record_with_timeline` (no field's column has a
colon in its name)."""


async def fetch_record_with_timeline(
    connection: asyncpg.Connection, obj: ObjectDefinition, record_id: uuid.UUID, *, limit: int
) -> tuple[asyncpg.Record | None, list[dict[str, Any]]]:
    """A record (deleted or not) and its newest ``limit`` timeline events, newest first, in one statement: a record
    page shows both. The events come as JSON objects, the columns of ``timeline_events`` by name (``happened_at`` in
    ISO 8601 text); none when the record does not exist."""
    newest = (
        "SELECT coalesce(json_agg(events ORDER BY events.happened_at DESC, events.id DESC), '[]') FROM (SELECT * "
        "FROM timeline_events WHERE object_name = $2 AND record_id = $1 ORDER BY happened_at DESC, id DESC LIMIT $3) "
        "AS events"
    )
    row: asyncpg.Record | None = await connection.fetchrow(
        f'SELECT *, ({newest}) AS "{_NEWEST_EVENTS}" FROM {_table(obj)} WHERE id = $1',  # noqa: S608 (quoted names)
        record_id,
        obj.name,
        limit,
    )
    if row is None:
        return None, []
    return row, row[_NEWEST_EVENTS]


# Manual order inside a column of a board: the records whose select column holds one value, ordered by
# (position, created_at, id). ``value`` None means the records where the column is empty.


def _in_column(column: str, value_param: str, value: str | None) -> str:
    return f"{quote_ident(column)} IS NULL" if value is None else f"{quote_ident(column)} = {value_param}"


async def lock_column(connection: asyncpg.Connection, obj: ObjectDefinition, column: str, value: str | None) -> None:
    """Serialise the moves into one column until the transaction ends (their positions are computed from it)."""
    await connection.execute(
        "SELECT pg_advisory_xact_lock(hashtext($1))", f"wosool:order:{obj.table_name}:{column}:{value or ''}"
    )


async def record_in_column(
    connection: asyncpg.Connection,
    obj: ObjectDefinition,
    column: str,
    value: str | None,
    record_id: uuid.UUID,
    *,
    exclude: uuid.UUID,
) -> asyncpg.Record | None:
    """``record_id``'s (id, position, created_at) if it is a live record of that column (and not ``exclude``)."""
    row: asyncpg.Record | None = await connection.fetchrow(
        f"SELECT id, position, created_at FROM {_table(obj)} WHERE id = $1 AND id <> $2 "  # noqa: S608
        f"AND deleted_at IS NULL AND {_in_column(column, '$3', value)}",
        record_id,
        exclude,
        *([] if value is None else [value]),
    )
    return row


async def column_neighbour(
    connection: asyncpg.Connection,
    obj: ObjectDefinition,
    column: str,
    value: str | None,
    *,
    anchor: asyncpg.Record | None,
    forward: bool,
    exclude: uuid.UUID,
) -> asyncpg.Record | None:
    """The live record right after (``forward``) or right before ``anchor`` (a row with id, position and
    created_at) in the column's order; without an anchor, the first or the last record of the column."""
    params: list[Any] = [exclude]
    where = ["id <> $1", "deleted_at IS NULL"]
    if value is not None:
        params.append(value)
    where.append(_in_column(column, f"${len(params)}", value))
    if anchor is not None:
        params.extend([anchor["position"], anchor["created_at"], anchor["id"]])
        n = len(params)
        where.append(f"(position, created_at, id) {'>' if forward else '<'} (${n - 2}, ${n - 1}, ${n})")
    order = "ASC" if forward else "DESC"
    row: asyncpg.Record | None = await connection.fetchrow(
        f"SELECT id, position, created_at FROM {_table(obj)} WHERE {' AND '.join(where)} "  # noqa: S608
        f"ORDER BY position {order}, created_at {order}, id {order} LIMIT 1",
        *params,
    )
    return row


async def renumber_column(
    connection: asyncpg.Connection,
    obj: ObjectDefinition,
    column: str,
    value: str | None,
    *,
    gap: float,
    exclude: uuid.UUID,
) -> None:
    """Spread the column's records ``gap`` apart, keeping their order (when neighbours got too close)."""
    await connection.execute(
        f"UPDATE {_table(obj)} AS t SET position = s.n * $2 FROM ("  # noqa: S608
        f"SELECT id, row_number() OVER (ORDER BY position, created_at, id) AS n FROM {_table(obj)} "
        f"WHERE id <> $1 AND deleted_at IS NULL AND {_in_column(column, '$3', value)}) AS s WHERE t.id = s.id",
        exclude,
        gap,
        *([] if value is None else [value]),
    )


async def set_position(
    connection: asyncpg.Connection, obj: ObjectDefinition, record_id: uuid.UUID, position: float
) -> asyncpg.Record:
    row: asyncpg.Record = await connection.fetchrow(
        f"UPDATE {_table(obj)} SET position = $2, updated_at = now() WHERE id = $1 RETURNING *",  # noqa: S608
        record_id,
        position,
    )
    return row
