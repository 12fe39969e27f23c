"""The data of a kanban board: records grouped by a select field, each column in manual order (``position``, then
``created_at``), with a count and a money sum per column. SQL for any object table, built from the catalogue;
the filter comes from the one query layer (app/crm/query.py), every value is a bound parameter.

Cards are read per column with a LATERAL join, so each column is an index range (``(stage, position)`` for deals)
rather than a sort of the whole table; counts and sums are one GROUP BY.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from app.crm import query
from app.crm.fields import FieldDefinition, FieldType, quote_ident
from app.crm.metadata import ObjectDefinition
from app.crm.queryable import query_fields
from app.crm.records import record_to_api

__all__ = ["ColumnSummary", "column_cards", "column_summaries", "money_field"]

_ORDER = "position, created_at, id"


@dataclass
class ColumnSummary:
    count: int = 0
    sums: dict[str, int] = field(default_factory=dict)
    """Minor units per currency code."""


def money_field(obj: ObjectDefinition) -> FieldDefinition | None:
    """The currency field a board sums per column (a deal's amount), if the object has one."""
    return next((f for f in obj.fields if f.type == FieldType.CURRENCY), None)


def _where(obj: ObjectDefinition, filter: query.Filter | None) -> tuple[str, list[Any]]:
    if filter is None:
        return "deleted_at IS NULL", []
    sql, params = query.compile_filter(filter, query.make_catalogue(query_fields(obj)))
    return f"deleted_at IS NULL AND {sql}", params


async def column_summaries(
    connection: asyncpg.Connection, obj: ObjectDefinition, group: FieldDefinition, filter: query.Filter | None
) -> dict[str | None, ColumnSummary]:
    """Per value of ``group`` (None: empty): how many records, and the sum of the money field per currency."""
    where, params = _where(obj, filter)
    column = quote_ident(group.name)
    money = money_field(obj)
    if money is None:
        select = f"{column} AS value, NULL::text AS currency, count(*) AS n, NULL::bigint AS total"
        group_by = column
    else:
        amount, currency = quote_ident(f"{money.name}_amount_minor"), quote_ident(f"{money.name}_currency")
        select = f"{column} AS value, {currency} AS currency, count(*) AS n, sum({amount})::bigint AS total"
        group_by = f"{column}, {currency}"
    rows = await connection.fetch(
        f"SELECT {select} FROM {quote_ident(obj.table_name)} WHERE {where} GROUP BY {group_by}",  # noqa: S608
        *params,
    )
    summaries: dict[str | None, ColumnSummary] = {}
    for row in rows:
        summary = summaries.setdefault(row["value"], ColumnSummary())
        summary.count += int(row["n"])
        if row["currency"] is not None and row["total"] is not None:
            summary.sums[row["currency"]] = summary.sums.get(row["currency"], 0) + int(row["total"])
    return summaries


async def column_cards(
    connection: asyncpg.Connection,
    obj: ObjectDefinition,
    group: FieldDefinition,
    values: Sequence[str | None],
    filter: query.Filter | None,
    *,
    limit: int,
    offset: int = 0,
) -> dict[str | None, list[dict[str, Any]]]:
    """Up to ``limit`` records (API shape) of each column ``values`` (None: the empty column), in board order,
    skipping the first ``offset`` of each."""
    where, params = _where(obj, filter)
    table, column = quote_ident(obj.table_name), quote_ident(group.name)
    cards: dict[str | None, list[dict[str, Any]]] = {value: [] for value in values}
    named = [value for value in values if value is not None]
    n = len(params)
    if named:
        rows = await connection.fetch(
            f"SELECT c.* FROM unnest(${n + 1}::text[]) AS v(value) CROSS JOIN LATERAL ("  # noqa: S608
            f"SELECT * FROM {table} WHERE {where} AND {column} = v.value "
            f"ORDER BY {_ORDER} LIMIT ${n + 2}::bigint OFFSET ${n + 3}::bigint) AS c",
            *params,
            named,
            limit,
            offset,
        )
        for row in rows:
            cards[row[group.name]].append(record_to_api(obj, row))
    if None in cards:
        rows = await connection.fetch(
            f"SELECT * FROM {table} WHERE {where} AND {column} IS NULL "  # noqa: S608
            f"ORDER BY {_ORDER} LIMIT ${n + 1}::bigint OFFSET ${n + 2}::bigint",
            *params,
            limit,
            offset,
        )
        cards[None] = [record_to_api(obj, row) for row in rows]
    return cards
