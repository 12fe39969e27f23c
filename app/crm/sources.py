"""Records that come from an outside source (the merchant's Salla store), written in bulk and keyed by the source's
own id (the ``salla_id`` column, unique in every object Salla fills).

The Salla domain maps its payloads to `SourceRecord` values (API-shaped field values, as the REST API takes them)
and calls `upsert_records` / `delete_by_source`; it never touches the tenant tables itself. Here:

- Every value passes the engine's field rules (`app.crm.fields.validate`): phones become E.164, e-mails lower case,
  money minor units. A value the rules refuse (a malformed e-mail in the store, say) is dropped and counted in
  `UpsertOutcome.dropped`, so one bad value does not lose the whole customer; a record without a required field is
  rejected and counted.
- One statement per page of records: ``INSERT ... SELECT FROM unnest($1, $2, ...) ON CONFLICT (salla_id) DO UPDATE``
  with the source's own update time in ``salla_updated_at``: a stored row changes only when it has no source time
  yet or the incoming one is at least as new, so an update that arrives late never overwrites newer data. A repeat
  of data already stored changes nothing (``updated_at`` and the actor stay) but still advances ``salla_updated_at``.
  An incoming record without a time only ever fills a row that has none either.
- A field left out of ``values`` is left alone on update (required fields excepted: a record may be new, so it
  must carry them); ``initial`` values are set only when the record is created (an abandoned cart's deal starts
  at the first stage, and a merchant who moves it keeps their stage).
- The record columns stay right: created/updated by the actor (source ``salla``), ``updated_at`` only on a real
  change, ``search_text`` by the engine's own rule (`app.crm.records.search_text_of`), so global search finds
  synced customers.
- Relations by source id (``links``): an order's customer is the person whose ``salla_id`` is the order's customer
  id. An order whose customer is not stored yet keeps that id (``orders.customer_salla_id``) and is linked as soon
  as the customer is written. An order's lines (``lines``) replace the lines it had.
- Timeline: with ``timeline=True`` (webhooks) every created or changed record gets one event with its field diff,
  like any edit. The bulk backfill passes False: writing one event per synced row would double the work of a sync
  for entries nobody reads (the record's "created by Salla" says the same).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg

from app.crm import repository
from app.crm.fields import (
    FieldError,
    FieldType,
    column_names,
    columns,
    quote_ident,
    to_api,
    validate,
)
from app.crm.metadata import Catalogue, ObjectDefinition
from app.crm.records import Actor, search_text_of

__all__ = [
    "SALLA",
    "NotASourceObject",
    "SourceLine",
    "SourceRecord",
    "UpsertOutcome",
    "delete_by_source",
    "record_ids_by_source",
    "upsert_records",
]

SALLA = Actor(source="salla", name="Salla")

_PENDING_LINKS: Mapping[tuple[str, str], str] = {("orders", "customer"): "customer_salla_id"}
"""(object, relation field) -> the column that keeps the target's source id until the target is stored."""
_LINES: Mapping[str, tuple[str, str]] = {"orders": ("order_items", "order")}
"""object -> (the object of its lines, the lines' relation field pointing back at it)."""
_ACTOR_PARTS = ("source", "id", "name")


class NotASourceObject(LookupError):
    """The object has no ``salla_id`` column, so records cannot be written to it by source id."""


@dataclass(frozen=True)
class SourceLine:
    """One line of a record (an order's item): its field values, its source id when the source gives one, and its
    relations by source id (``{"product": "<product salla id>"}``)."""

    values: Mapping[str, Any]
    salla_id: str | None = None
    links: Mapping[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class SourceRecord:
    """One record as the source knows it."""

    salla_id: str
    values: Mapping[str, Any]
    """API-shaped field values; a field left out is left alone on update."""
    updated_at: datetime | None = None
    """When the source last changed this data (or when it was read): older data never overwrites newer."""
    links: Mapping[str, str | None] = field(default_factory=dict)
    """Relation field -> the target's source id (None: no target)."""
    initial: Mapping[str, Any] = field(default_factory=dict)
    """Field values set only when the record is created."""
    lines: Sequence[SourceLine] | None = None
    """The record's lines (orders: their items), replacing the stored ones; None leaves them alone."""


@dataclass
class UpsertOutcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    """Stored already (or older than what is stored): nothing changed."""
    rejected: int = 0
    """Records without a required field: not written."""
    dropped: dict[str, int] = field(default_factory=dict)
    """Field name -> how many values the field rules refused (written as empty)."""
    ids: dict[str, uuid.UUID] = field(default_factory=dict)
    """Source id -> record id, for every record created or updated."""

    @property
    def written(self) -> int:
        return self.created + self.updated


@dataclass(frozen=True)
class _Prepared:
    record: SourceRecord
    values: dict[str, Any]
    initial: dict[str, Any]
    search_text: str

    def shape(self) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
        return (tuple(self.values), tuple(self.initial), tuple(self.record.links))


def _object(catalogue: Catalogue, name: str) -> ObjectDefinition:
    obj = catalogue.get(name)
    if obj is None or obj.field("salla_id") is None:
        raise NotASourceObject(f"{name!r} is not an object that records from Salla can be written to")
    return obj


def _column_values(
    obj: ObjectDefinition, data: Mapping[str, Any], outcome: UpsertOutcome, *, skip: set[str]
) -> dict[str, Any]:
    """Column values of the given fields; a value the field refuses is dropped (its columns empty) and counted."""
    found: dict[str, Any] = {}
    for name, value in data.items():
        definition = obj.field(name)
        if definition is None or name in skip:
            outcome.dropped[name] = outcome.dropped.get(name, 0) + 1
            continue
        try:
            found.update(validate(definition, value))
        except FieldError:
            outcome.dropped[name] = outcome.dropped.get(name, 0) + 1
            found.update(dict.fromkeys(column_names(definition)))
    return found


def _lacks_required(obj: ObjectDefinition, values: Mapping[str, Any], initial: Mapping[str, Any]) -> bool:
    """Every record must carry its required fields (a product's name): it may be new, and then they are needed."""
    for definition in obj.fields:
        if definition.required and definition.type != FieldType.RELATION:
            given = {**values, **initial}
            if all(given.get(column) is None for column in column_names(definition)):
                return True
    return False


def _prepare(obj: ObjectDefinition, record: SourceRecord, outcome: UpsertOutcome) -> _Prepared | None:
    skip = {"salla_id", *record.links}
    values = _column_values(obj, record.values, outcome, skip=skip)
    only_initial = {name: value for name, value in record.initial.items() if name not in record.values}
    initial = _column_values(obj, only_initial, outcome, skip=skip)
    if _lacks_required(obj, values, initial):
        outcome.rejected += 1
        return None
    return _Prepared(record, values, initial, search_text_of(obj, {**initial, **values}))


def _newest_per_source_id(records: Sequence[SourceRecord]) -> list[SourceRecord]:
    """One record per source id (one statement cannot change a row twice): the newest, the later one on a tie."""
    chosen: dict[str, SourceRecord] = {}
    for record in records:
        current = chosen.get(record.salla_id)
        if current is None or _not_older(record.updated_at, current.updated_at):
            chosen[record.salla_id] = record
    return list(chosen.values())


def _not_older(incoming: datetime | None, stored: datetime | None) -> bool:
    return stored is None or (incoming is not None and incoming >= stored)


# --- SQL ---------------------------------------------------------------------------------------------------------

_ARRAY_TYPES = {
    "text": "text[]",
    "numeric": "numeric[]",
    "bigint": "bigint[]",
    "smallint": "smallint[]",
    "boolean": "boolean[]",
    "date": "date[]",
    "timestamptz": "timestamptz[]",
    "uuid": "uuid[]",
    "char(2)": "text[]",
    "char(3)": "text[]",
    "jsonb": "text[]",
    "text[]": "text[]",
}
"""How a column's values travel in one array parameter. json and text[] values travel as JSON text."""


def _sql_types(obj: ObjectDefinition) -> dict[str, str]:
    return {column.name: column.sql_type for item in obj.fields for column in columns(item)}


def _from_parameter(alias: str, sql_type: str) -> str:
    """The expression that turns an unnested parameter back into the column's value."""
    if sql_type == "jsonb":
        return f"s.{alias}::jsonb"
    if sql_type == "text[]":
        return f"ARRAY(SELECT jsonb_array_elements_text(s.{alias}::jsonb))"
    return f"s.{alias}"


def _parameter_value(sql_type: str, value: Any) -> Any:
    if value is not None and sql_type in ("jsonb", "text[]"):
        return json.dumps(value, ensure_ascii=False)
    return value


@dataclass(frozen=True)
class _Statement:
    sql: str
    arrays: list[tuple[str, str]]
    """(alias, column SQL type) of each array parameter, in order."""


class _Columns:
    """The unnested parameters of one statement: ``$n::type[]`` with an alias each, then the actor's three values."""

    def __init__(self) -> None:
        self.arrays: list[tuple[str, str]] = []

    def add(self, sql_type: str) -> str:
        alias = f"c{len(self.arrays)}"
        self.arrays.append((alias, sql_type))
        return alias

    def unnest(self) -> str:
        parameters = ", ".join(f"${n}::{_ARRAY_TYPES[sql_type]}" for n, (_, sql_type) in enumerate(self.arrays, 1))
        aliases = ", ".join(alias for alias, _ in self.arrays)
        return f"unnest({parameters}) AS s({aliases})"

    def actor(self, part: int) -> str:
        return f"${len(self.arrays) + part}"


def _upsert_statement(
    catalogue: Catalogue, obj: ObjectDefinition, shape: tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]
) -> _Statement:
    value_columns, initial_columns, link_fields = shape
    types = _sql_types(obj)
    params = _Columns()
    inserted: dict[str, str] = {
        "salla_id": f"s.{params.add('text')}",
        "salla_updated_at": f"s.{params.add('timestamptz')}",
        "search_text": f"s.{params.add('text')}",
    }
    for name in (*value_columns, *initial_columns):
        inserted[name] = _from_parameter(params.add(types[name]), types[name])
    for name in link_fields:
        alias = params.add("text")
        inserted[name] = _link_target(catalogue, obj, name, alias)
        pending = _PENDING_LINKS.get((obj.name, name))
        if pending:
            inserted[pending] = f"s.{alias}"
    for who in ("created_by", "updated_by"):
        for n, part in enumerate(_ACTOR_PARTS, 1):
            inserted[f"{who}_{part}"] = params.actor(n)
    synced = [*value_columns, *link_fields, *(_PENDING_LINKS.get((obj.name, name)) or "" for name in link_fields)]
    synced = [name for name in synced if name]
    changed = _changed(synced)
    assignments = [f"{quote_ident(name)} = EXCLUDED.{quote_ident(name)}" for name in synced]
    assignments += [
        f"search_text = CASE WHEN {changed} THEN EXCLUDED.search_text ELSE t.search_text END",
        "salla_updated_at = EXCLUDED.salla_updated_at",
        f"updated_at = CASE WHEN {changed} THEN now() ELSE t.updated_at END",
        *(
            f"updated_by_{part} = CASE WHEN {changed} THEN EXCLUDED.updated_by_{part} ELSE t.updated_by_{part} END"
            for part in _ACTOR_PARTS
        ),
    ]
    table = quote_ident(obj.table_name)
    sql = (
        f"INSERT INTO {table} AS t ({', '.join(quote_ident(name) for name in inserted)}) "  # noqa: S608 (quoted names)
        f"SELECT {', '.join(inserted.values())} FROM {params.unnest()} "
        f"ON CONFLICT (salla_id) DO UPDATE SET {', '.join(assignments)} "
        "WHERE (t.salla_updated_at IS NULL OR t.salla_updated_at <= EXCLUDED.salla_updated_at) "
        f"AND ({changed} OR t.salla_updated_at IS DISTINCT FROM EXCLUDED.salla_updated_at) "
        # updated_at is now() (the transaction's start) exactly when this statement created or changed the row.
        "RETURNING t.*, (t.xmax = 0) AS source_inserted, (t.updated_at = now()) AS source_changed"
    )
    return _Statement(sql, params.arrays)


def _changed(names: Sequence[str]) -> str:
    if not names:
        return "false"
    stored = ", ".join(f"t.{quote_ident(name)}" for name in names)
    incoming = ", ".join(f"EXCLUDED.{quote_ident(name)}" for name in names)
    return f"ROW({stored}) IS DISTINCT FROM ROW({incoming})"


def _link_target(catalogue: Catalogue, obj: ObjectDefinition, name: str, alias: str) -> str:
    definition = obj.field(name)
    if definition is None or definition.type != FieldType.RELATION:
        raise ValueError(f"{obj.name}.{name} is not a relation")
    target = catalogue.get(str(definition.settings["target"]))
    if target is None or target.field("salla_id") is None:
        raise ValueError(f"{obj.name}.{name} does not point at an object with Salla ids")
    return f"(SELECT r.id FROM {quote_ident(target.table_name)} r WHERE r.salla_id = s.{alias})"  # noqa: S608


def _arguments(statement: _Statement, rows: Sequence[_Prepared], actor: Actor) -> list[Any]:
    arrays: list[list[Any]] = [[] for _ in statement.arrays]
    for row in rows:
        cells: list[Any] = [row.record.salla_id, row.record.updated_at, row.search_text]
        cells += [*row.values.values(), *row.initial.values(), *row.record.links.values()]
        for index, cell in enumerate(cells):
            arrays[index].append(_parameter_value(statement.arrays[index][1], cell))
    return [*arrays, actor.source, actor.id, actor.name]


# --- the service -------------------------------------------------------------------------------------------------


async def upsert_records(
    connection: asyncpg.Connection,
    catalogue: Catalogue,
    object_name: str,
    records: Sequence[SourceRecord],
    *,
    actor: Actor = SALLA,
    timeline: bool = False,
) -> UpsertOutcome:
    """Create or update ``records`` of one object by their source ids, in one transaction. See the module doc."""
    obj = _object(catalogue, object_name)
    outcome = UpsertOutcome()
    prepared = [row for record in _newest_per_source_id(records) if (row := _prepare(obj, record, outcome))]
    if not prepared:
        return outcome
    by_shape: dict[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]], list[_Prepared]] = {}
    for row in prepared:
        by_shape.setdefault(row.shape(), []).append(row)
    async with connection.transaction():
        await _lock_links(connection, catalogue, obj)
        before = await _current(connection, obj, [row.record.salla_id for row in prepared]) if timeline else {}
        written: list[asyncpg.Record] = []
        for shape, rows in by_shape.items():
            statement = _upsert_statement(catalogue, obj, shape)
            written += await connection.fetch(statement.sql, *_arguments(statement, rows, actor))
        await _fix_search_text(connection, obj, written)
        await _link_waiting(connection, catalogue, obj, [row["id"] for row in written])
        await _replace_lines(connection, catalogue, obj, prepared, written, actor)
        if timeline:
            await _write_timeline(connection, obj, before, written, actor)
    _count(outcome, written, len(prepared))
    return outcome


def _count(outcome: UpsertOutcome, written: Sequence[asyncpg.Record], prepared: int) -> None:
    for row in written:
        if row["source_inserted"]:
            outcome.created += 1
        elif row["source_changed"]:
            outcome.updated += 1
        else:
            outcome.unchanged += 1
        if row["source_inserted"] or row["source_changed"]:
            outcome.ids[row["salla_id"]] = row["id"]
    outcome.unchanged += prepared - len(written)


async def _current(connection: asyncpg.Connection, obj: ObjectDefinition, ids: list[str]) -> dict[str, asyncpg.Record]:
    rows = await connection.fetch(
        f"SELECT * FROM {quote_ident(obj.table_name)} WHERE salla_id = ANY($1::text[]) FOR UPDATE",  # noqa: S608
        ids,
    )
    return {row["salla_id"]: row for row in rows}


async def _fix_search_text(
    connection: asyncpg.Connection, obj: ObjectDefinition, rows: Sequence[asyncpg.Record]
) -> None:
    """A record written with only some of its fields gets the search text of all of them."""
    fixes = [(row["id"], text) for row in rows if (text := search_text_of(obj, row)) != row["search_text"]]
    if fixes:
        await connection.executemany(
            f"UPDATE {quote_ident(obj.table_name)} SET search_text = $2 WHERE id = $1",  # noqa: S608
            fixes,
        )


async def _lock_links(connection: asyncpg.Connection, catalogue: Catalogue, obj: ObjectDefinition) -> None:
    """Writes of records that wait for a target (orders) and of their targets (people) take turns, until commit.

    Otherwise an order and its customer written at the same moment (the sync's lanes, two webhooks) could both
    miss: the order's statement does not see the uncommitted customer, the customer's link update does not see
    the uncommitted order. Taking turns, the second one's statements see the first one committed."""
    for source_name, relation in _PENDING_LINKS:
        source = catalogue.get(source_name)
        definition = source.field(relation) if source else None
        if definition is not None and obj.name in (source_name, definition.settings.get("target")):
            await connection.execute(
                "SELECT pg_advisory_xact_lock(hashtext($1))", f"wosool:source-links:{source_name}.{relation}"
            )


async def _link_waiting(
    connection: asyncpg.Connection, catalogue: Catalogue, obj: ObjectDefinition, ids: Sequence[uuid.UUID]
) -> None:
    """Records that were waiting for one of these (an order for its customer) now point at it."""
    if not ids:
        return
    for (source_name, relation), pending in _PENDING_LINKS.items():
        source = catalogue.get(source_name)
        definition = source.field(relation) if source else None
        if source is None or definition is None or definition.settings.get("target") != obj.name:
            continue
        table, column, pending_column = (quote_ident(name) for name in (source.table_name, relation, pending))
        await connection.execute(
            f"UPDATE {table} AS w SET {column} = r.id, updated_at = now() "  # noqa: S608 (quoted names)
            f"FROM {quote_ident(obj.table_name)} AS r WHERE r.id = ANY($1::uuid[]) "
            f"AND w.{column} IS NULL AND w.{pending_column} = r.salla_id",
            list(ids),
        )


async def _write_timeline(
    connection: asyncpg.Connection,
    obj: ObjectDefinition,
    before: Mapping[str, asyncpg.Record],
    written: Sequence[asyncpg.Record],
    actor: Actor,
) -> None:
    for row in written:
        after = {item.name: to_api(item, row) for item in obj.fields}
        previous = before.get(row["salla_id"])
        if previous is None:
            kind = "created"
            diff = {name: [None, value] for name, value in after.items() if value not in (None, [], {})}
        else:
            kind = "updated"
            old = {item.name: to_api(item, previous) for item in obj.fields}
            diff = {name: [old[name], value] for name, value in after.items() if old[name] != value}
        if diff:
            await repository.add_timeline_event(
                connection, object_name=obj.name, record_id=row["id"], kind=kind, actor=actor.as_dict(), diff=diff
            )


# --- lines (an order's items) ------------------------------------------------------------------------------------


async def _replace_lines(
    connection: asyncpg.Connection,
    catalogue: Catalogue,
    obj: ObjectDefinition,
    prepared: Sequence[_Prepared],
    written: Sequence[asyncpg.Record],
    actor: Actor,
) -> None:
    if obj.name not in _LINES:
        return
    line_name, back = _LINES[obj.name]
    lines_obj = catalogue.get(line_name)
    if lines_obj is None:
        return
    by_source = {row.record.salla_id: row.record for row in prepared}
    owners = {
        row["id"]: (by_source[row["salla_id"]], row) for row in written if by_source[row["salla_id"]].lines is not None
    }
    owners = await _without_same_summary(connection, lines_obj, back, owners)
    if not owners:
        return
    await connection.execute(
        f"DELETE FROM {quote_ident(lines_obj.table_name)} WHERE {quote_ident(back)} = ANY($1::uuid[])",  # noqa: S608
        list(owners),
    )
    outcome = UpsertOutcome()
    rows: list[tuple[uuid.UUID, int, datetime | None, SourceLine, dict[str, Any]]] = []
    seen: set[str] = set()
    for owner_id, (record, _) in owners.items():
        for position, line in enumerate(record.lines or ()):
            if line.salla_id and line.salla_id in seen:
                continue  # the same line twice: one statement cannot write it twice
            if line.salla_id:
                seen.add(line.salla_id)
            values = _column_values(lines_obj, line.values, outcome, skip={"salla_id", back, *line.links})
            rows.append((owner_id, position, record.updated_at, line, values))
    by_shape: dict[tuple[tuple[str, ...], tuple[str, ...]], list[Any]] = {}
    for item in rows:
        by_shape.setdefault((tuple(item[4]), tuple(item[3].links)), []).append(item)
    for (value_columns, link_fields), group in by_shape.items():
        await _insert_lines(connection, catalogue, lines_obj, back, value_columns, link_fields, group, actor)


async def _without_same_summary(
    connection: asyncpg.Connection,
    lines_obj: ObjectDefinition,
    back: str,
    owners: dict[uuid.UUID, tuple[SourceRecord, asyncpg.Record]],
) -> dict[uuid.UUID, tuple[SourceRecord, asyncpg.Record]]:
    """Lines without source ids are a summary (Salla's order list: name and quantity only). When an existing
    record's stored lines already say the same, keep them: they may hold more (prices, SKUs from a webhook)."""
    summaries = [
        owner_id
        for owner_id, (record, row) in owners.items()
        if not row["source_inserted"] and not any(line.salla_id for line in record.lines or ())
    ]
    if not summaries:
        return owners
    stored: dict[uuid.UUID, list[tuple[str | None, int]]] = {}
    for line in await connection.fetch(
        f"SELECT {quote_ident(back)} AS owner, name, quantity FROM {quote_ident(lines_obj.table_name)} "  # noqa: S608
        f"WHERE {quote_ident(back)} = ANY($1::uuid[]) ORDER BY position, created_at, id",
        summaries,
    ):
        stored.setdefault(line["owner"], []).append((line["name"], int(line["quantity"] or 0)))
    kept = dict(owners)
    for owner_id in summaries:
        record = owners[owner_id][0]
        incoming = [(_line_name(line), _line_quantity(line)) for line in record.lines or ()]
        if stored.get(owner_id) and stored[owner_id] == incoming:
            del kept[owner_id]
    return kept


def _line_name(line: SourceLine) -> str | None:
    name = line.values.get("name")
    return name.strip() or None if isinstance(name, str) else None


def _line_quantity(line: SourceLine) -> int:
    quantity = line.values.get("quantity")
    try:
        return int(quantity or 0)
    except (TypeError, ValueError):
        return 0


async def _insert_lines(
    connection: asyncpg.Connection,
    catalogue: Catalogue,
    lines_obj: ObjectDefinition,
    back: str,
    value_columns: tuple[str, ...],
    link_fields: tuple[str, ...],
    group: Sequence[tuple[uuid.UUID, int, datetime | None, SourceLine, dict[str, Any]]],
    actor: Actor,
) -> None:
    types = _sql_types(lines_obj)
    params = _Columns()
    inserted: dict[str, str] = {
        back: f"s.{params.add('uuid')}",
        "position": f"s.{params.add('numeric')}",
        "salla_updated_at": f"s.{params.add('timestamptz')}",
        "salla_id": f"s.{params.add('text')}",
        "search_text": f"s.{params.add('text')}",
    }
    for name in value_columns:
        inserted[name] = _from_parameter(params.add(types[name]), types[name])
    for name in link_fields:
        inserted[name] = _link_target(catalogue, lines_obj, name, params.add("text"))
    for who in ("created_by", "updated_by"):
        for n, part in enumerate(_ACTOR_PARTS, 1):
            inserted[f"{who}_{part}"] = params.actor(n)
    updates = ", ".join(
        f"{quote_ident(name)} = EXCLUDED.{quote_ident(name)}" for name in inserted if name != "salla_id"
    )
    sql = (
        f"INSERT INTO {quote_ident(lines_obj.table_name)} ({', '.join(quote_ident(name) for name in inserted)}) "  # noqa: S608
        f"SELECT {', '.join(inserted.values())} FROM {params.unnest()} "
        f"ON CONFLICT (salla_id) DO UPDATE SET {updates}, updated_at = now()"
    )
    arrays: list[list[Any]] = [[] for _ in params.arrays]
    for owner_id, position, updated_at, line, values in group:
        cells = [owner_id, position, updated_at, line.salla_id, search_text_of(lines_obj, values)]
        cells += [*values.values(), *line.links.values()]
        for index, cell in enumerate(cells):
            arrays[index].append(_parameter_value(params.arrays[index][1], cell))
    await connection.execute(sql, *arrays, actor.source, actor.id, actor.name)


# --- deletes and lookups -----------------------------------------------------------------------------------------


async def delete_by_source(
    connection: asyncpg.Connection,
    catalogue: Catalogue,
    object_name: str,
    salla_id: str,
    *,
    at: datetime | None = None,
    actor: Actor = SALLA,
) -> bool:
    """Soft delete the record with this source id (restorable like any delete); True if a live record was deleted.

    A delete is final at the source, so it applies whatever the stored time; ``at`` (the source's time of the
    delete) advances ``salla_updated_at`` so that an older update arriving later changes nothing.

    A delete that overtakes the record's creation (deliveries arrive in any order) leaves a tombstone: a deleted
    row holding only the source id and time. The creation, arriving later, then lands on a deleted record (an
    upsert never brings one back) instead of restoring what the store has removed."""
    obj = _object(catalogue, object_name)
    table = quote_ident(obj.table_name)
    assignments = ", ".join(f"updated_by_{part} = ${n}" for n, part in enumerate(_ACTOR_PARTS, 3))
    who = ", ".join(f"{role}_{part}" for role in ("created_by", "updated_by") for part in _ACTOR_PARTS)
    async with connection.transaction():
        record_id = await connection.fetchval(
            f"UPDATE {table} SET deleted_at = now(), updated_at = now(), {assignments}, "  # noqa: S608
            "salla_updated_at = GREATEST(salla_updated_at, $2) WHERE salla_id = $1 AND deleted_at IS NULL RETURNING id",
            salla_id,
            at,
            actor.source,
            actor.id,
            actor.name,
        )
        if record_id is None:
            await connection.execute(
                f"INSERT INTO {table} AS t (salla_id, salla_updated_at, deleted_at, {who}) "  # noqa: S608
                "VALUES ($1, $2, now(), $3, $4, $5, $3, $4, $5) ON CONFLICT (salla_id) DO UPDATE "
                "SET salla_updated_at = GREATEST(t.salla_updated_at, EXCLUDED.salla_updated_at)",
                salla_id,
                at,
                actor.source,
                actor.id,
                actor.name,
            )
            return False
        await repository.add_timeline_event(
            connection, object_name=obj.name, record_id=record_id, kind="deleted", actor=actor.as_dict(), diff={}
        )
    return True


async def record_ids_by_source(
    connection: asyncpg.Connection, catalogue: Catalogue, object_name: str, salla_ids: Sequence[str]
) -> dict[str, uuid.UUID]:
    """Source id -> record id of the stored records (deleted ones included) among ``salla_ids``."""
    obj = _object(catalogue, object_name)
    rows = await connection.fetch(
        f"SELECT salla_id, id FROM {quote_ident(obj.table_name)} WHERE salla_id = ANY($1::text[])",  # noqa: S608
        list(salla_ids),
    )
    return {row["salla_id"]: row["id"] for row in rows}
