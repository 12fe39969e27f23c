"""The rows of a list page: one keyset page of an object, forwards (``after``) or backwards (``before``), through
the one query layer (app/crm/query.py), and a count that never scans more than a few thousand rows.

Going back a page runs the same query with every sort reversed from the first row of the current page, then
turns the rows around: both directions use the same indexes, and no page ever needs an OFFSET or a count.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType
from typing import Any

import asyncpg

from app.crm import query
from app.crm.fields import FieldDefinition, column_names, quote_ident, to_api
from app.crm.metadata import ObjectDefinition
from app.crm.queryable import query_fields
from app.lib.remembered import Remembered

__all__ = ["COUNT_CAP", "ListPage", "count_up_to", "fetch_list_page", "list_catalogue"]

COUNT_CAP = 10_000
"""Counts stop here ("10,000+"): counting every row of a big table costs more than the page itself."""

_ID = query.QueryField("id", "id", query.Kind.UUID)


@dataclass(frozen=True)
class ListPage:
    rows: list[asyncpg.Record]
    """The database rows, in page order: ``id`` and the columns of the fields asked for."""
    fields: tuple[FieldDefinition, ...]
    next_cursor: str | None
    """``after`` of the next page; None on the last page."""
    previous_cursor: str | None
    """``before`` of the previous page; None on the first page."""

    @cached_property
    def records(self) -> list[dict[str, Any]]:
        """``id`` and the API values of the fields asked for (made when first asked: a list page whose rows it
        has rendered before needs none of them)."""
        return [
            {"id": str(row["id"]), **{field.name: to_api(field, row) for field in self.fields}} for row in self.rows
        ]


_QUERYABLE_REMEMBERED = 1000
_queryable: Remembered[Mapping[str, query.QueryField]] = Remembered(_QUERYABLE_REMEMBERED)


def list_catalogue(obj: ObjectDefinition) -> Mapping[str, query.QueryField]:
    """What a list may filter and sort on: the object's queryable names, and ``id``. Made once per object
    definition (a changed object is a new definition)."""
    found = _queryable.get(obj, "queryable")
    if found is None:
        found = MappingProxyType(query.make_catalogue([*query_fields(obj), _ID]))
        _queryable.put(obj, "queryable", found)
    return found


def _reversed(keys: Sequence[query.SortKey]) -> tuple[query.Sort, ...]:
    flip = {query.Direction.ASC: query.Direction.DESC, query.Direction.DESC: query.Direction.ASC}
    nulls = {query.Nulls.FIRST: query.Nulls.LAST, query.Nulls.LAST: query.Nulls.FIRST}
    return tuple(query.Sort(key.field.name, flip[key.direction], nulls[key.nulls]) for key in keys)


def _cursor(keys: Sequence[query.SortKey], row: Any) -> str:
    return query.encode_cursor(keys, [row[key.field.column] for key in keys])


@dataclass(frozen=True)
class _Reading:
    """How a list reads one object's ``fields`` in one order: the same for every page of it."""

    keys: tuple[query.SortKey, ...]
    backwards: tuple[query.Sort, ...]
    """The sorts reversed, for going back a page."""
    backward_keys: tuple[query.SortKey, ...]
    catalogue: Mapping[str, query.QueryField]
    """The object's queryable names and every column of the fields (a composite field's other parts)."""
    select: tuple[str, ...]
    """The names to select: a page reads only what it shows."""
    first_page: query.PageQuery
    """The first page with no filter, the page a list opens on."""


_READINGS_REMEMBERED = 1000
_readings: Remembered[_Reading] = Remembered(_READINGS_REMEMBERED)


def _reading(
    obj: ObjectDefinition, fields: Sequence[FieldDefinition], sorts: Sequence[query.Sort], limit: int
) -> _Reading:
    """Made once per object definition (the owner), fields, sorts and page size; a bad sort raises
    `query.QueryError`."""
    key = (tuple(field.name for field in fields), tuple(sorts), limit)
    found = _readings.get(obj, key)
    if found is None:
        catalogue = list_catalogue(obj)
        keys = query.resolve_sorts(sorts, catalogue)
        backwards = _reversed(keys)
        extended, select = _columns(catalogue, fields)
        found = _Reading(
            keys,
            backwards,
            query.resolve_sorts(backwards, catalogue),
            extended,
            select,
            query.build_page_query(obj.table_name, extended, None, sorts, limit, select=select),
        )
        _readings.put(obj, key, found)
    return found


def _columns(
    catalogue: Mapping[str, query.QueryField], fields: Sequence[FieldDefinition]
) -> tuple[Mapping[str, query.QueryField], tuple[str, ...]]:
    """The catalogue extended with every column of ``fields`` (a composite field's other parts, such as a phone
    field's additional numbers, are not query names), and the names to select: a page reads only what it shows."""
    extended = dict(catalogue)
    by_column = {entry.column: name for name, entry in catalogue.items()}
    names: list[str] = []
    for field in fields:
        for column in column_names(field):
            name = by_column.get(column)
            if name is None:
                name = column
                extended.setdefault(name, query.QueryField(name, column, query.Kind.JSON))
            names.append(name)
    return MappingProxyType(extended), tuple(names)


async def fetch_list_page(
    connection: asyncpg.Connection,
    obj: ObjectDefinition,
    *,
    fields: Sequence[FieldDefinition],
    filter: query.Filter | None,
    sorts: Sequence[query.Sort],
    after: str | None = None,
    before: str | None = None,
    limit: int = query.DEFAULT_LIMIT,
) -> ListPage:
    """The records (``id`` and ``fields``) of one page. Raises `query.QueryError` for a bad filter, sort or cursor."""
    reading = _reading(obj, fields, sorts, limit)
    if filter is not None:
        query.validate_filter(filter, list_catalogue(obj))  # only the object's own names, not the extra columns
    table, select = obj.table_name, reading.select
    if before is None and not after and filter is None:
        page = await query.fetch_built_page(connection, reading.first_page)
        rows, next_cursor, has_previous = page.rows, page.next_cursor, False
    elif before is None:
        page = await query.fetch_page(
            connection, table, reading.catalogue, filter, sorts, limit, after or None, select=select
        )
        rows, next_cursor, has_previous = page.rows, page.next_cursor, bool(after)
    else:
        page = await query.fetch_page(
            connection, table, reading.catalogue, filter, reading.backwards, limit, before, select=select
        )
        rows = list(reversed(page.rows))
        has_previous = page.next_cursor is not None
        next_cursor = _cursor(reading.keys, rows[-1]) if rows else None
    previous_cursor = _cursor(reading.backward_keys, rows[0]) if has_previous and rows else None
    return ListPage(list(rows), tuple(fields), next_cursor, previous_cursor)


async def count_up_to(
    connection: asyncpg.Connection, obj: ObjectDefinition, filter: query.Filter | None, *, cap: int = COUNT_CAP
) -> int:
    """The rows matching ``filter``, counted up to ``cap + 1`` (more than ``cap`` means "cap+")."""
    where, params = ("TRUE", []) if filter is None else query.compile_filter(filter, list_catalogue(obj))
    count: int = await connection.fetchval(
        f"SELECT count(*) FROM (SELECT 1 FROM {quote_ident(obj.table_name)} "  # noqa: S608 (quoted, bound)
        f"WHERE deleted_at IS NULL AND {where} LIMIT ${len(params) + 1}::bigint) AS matching",
        *params,
        cap + 1,
    )
    return count
