"""CSV export of an object: every live row matching a filter (no cap), in the order of the given sorts.

Columns: ``id``, then one column per field part of the API shape, then ``created_at`` and ``updated_at``.
Currency ``price`` -> ``price_amount`` ("12.50") + ``price_currency``; full name -> ``{name}_first``/``_last``;
address -> ``{name}_street``... ; phones, e-mails, links and multi-selects -> one column, values joined by "; "
(primary first; link labels are not exported); booleans true/false; json as JSON text. These are the names
app/crm/imports.py maps by default, so an exported file imports as it is.

The file is UTF-8 with a BOM (Excel then opens Arabic correctly). Rows are read with the one query layer in keyset
pages of `query.MAX_LIMIT` inside one REPEATABLE READ read-only transaction: one consistent snapshot, whatever
changes while the export runs. Progress goes through a second connection, like imports.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import uuid
from collections.abc import Mapping
from typing import Any

import asyncpg

from app.crm import query
from app.crm.fields import FieldDefinition, FieldType, to_api
from app.crm.metadata import ObjectDefinition
from app.crm.queryable import query_fields

__all__ = [
    "ExportNotFound",
    "ExportNotReady",
    "create_export",
    "export_columns",
    "export_content",
    "export_to_api",
    "fail_export",
    "get_export",
    "parse_export_filter",
    "run_export",
]

_PROGRESS_EVERY = 5
"""Pages between two progress updates."""
_PARTS: dict[FieldType, tuple[str, ...]] = {
    FieldType.CURRENCY: ("amount", "currency"),
    FieldType.FULL_NAME: ("first", "last"),
    FieldType.ADDRESS: ("street", "city", "region", "postal_code", "country"),
}


class ExportNotFound(LookupError):
    pass


class ExportNotReady(Exception):
    """The export has not finished (or failed); there is nothing to download yet."""


def export_columns(obj: ObjectDefinition) -> list[str]:
    names = ["id"]
    for definition in obj.fields:
        parts = _PARTS.get(definition.type)
        names += [definition.name] if parts is None else [f"{definition.name}_{part}" for part in parts]
    return [*names, "created_at", "updated_at"]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _cells(definition: FieldDefinition, row: Mapping[str, Any]) -> list[str]:
    value = to_api(definition, row)
    parts = _PARTS.get(definition.type)
    if parts is not None:
        return [_text(None if value is None else value.get(part)) for part in parts]
    if value is None:
        return [""]
    if definition.type in (FieldType.PHONES, FieldType.EMAILS):
        return ["; ".join([value["primary"], *value["additional"]])]
    if definition.type == FieldType.LINKS:
        return ["; ".join([value["primary_url"], *(link["url"] for link in value["additional"])])]
    if definition.type == FieldType.MULTI_SELECT:
        return ["; ".join(value)]
    if definition.type == FieldType.JSON:
        return [json.dumps(value, ensure_ascii=False)]
    return [_text(value)]


def _line(obj: ObjectDefinition, row: Mapping[str, Any]) -> list[str]:
    cells = [str(row["id"])]
    for definition in obj.fields:
        cells += _cells(definition, row)
    return [*cells, row["created_at"].isoformat(), row["updated_at"].isoformat()]


def parse_export_filter(raw: Any) -> query.Filter | None:
    """A filter in either syntax of app/crm/query.py: the compact text or the JSON tree (text or decoded)."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, str) and not raw.strip().startswith("{"):
        return query.parse_filter(raw.strip())
    return query.parse_filter_json(raw)


def _sorts_json(sorts: tuple[query.Sort, ...]) -> list[dict[str, str]]:
    return [{"field": sort.field, "direction": sort.direction, "nulls": sort.nulls} for sort in sorts]


def _sorts(raw: list[dict[str, str]]) -> tuple[query.Sort, ...]:
    return tuple(
        query.Sort(item["field"], query.Direction(item["direction"]), query.Nulls(item["nulls"])) for item in raw
    )


async def create_export(
    connection: asyncpg.Connection,
    obj: ObjectDefinition,
    *,
    filter: Any = None,
    sort: str | None = None,
    created_by: str | None = None,
) -> dict[str, Any]:
    """Check the filter and sorts against the object (QueryError with the reason) and store a pending export."""
    catalogue = query.make_catalogue(query_fields(obj))
    parsed = parse_export_filter(filter)
    checked = None if parsed is None else query.validate_filter(parsed, catalogue)
    sorts = query.parse_sorts(sort)
    query.resolve_sorts(sorts, catalogue)
    row = await connection.fetchrow(
        "INSERT INTO export_jobs (object_name, filter, sorts, created_by) VALUES ($1, $2, $3, $4) RETURNING *",
        obj.name,
        None if checked is None else filter,
        _sorts_json(sorts),
        created_by,
    )
    return export_to_api(row)


def export_to_api(row: Mapping[str, Any]) -> dict[str, Any]:
    def moment(name: str) -> str | None:
        return None if row[name] is None else row[name].isoformat()

    return {
        "id": str(row["id"]),
        "object": row["object_name"],
        "status": row["status"],
        "filter": row["filter"],
        "sorts": row["sorts"],
        "progress": {"processed": row["processed_rows"], "total": row["total_rows"]},
        "error": row["error"],
        "created_at": moment("created_at"),
        "started_at": moment("started_at"),
        "finished_at": moment("finished_at"),
    }


_STATUS_COLUMNS = (
    "id, object_name, status, filter, sorts, processed_rows, total_rows, error, created_at, started_at, finished_at"
)


async def get_export(connection: asyncpg.Connection, export_id: uuid.UUID) -> dict[str, Any]:
    row = await connection.fetchrow(f"SELECT {_STATUS_COLUMNS} FROM export_jobs WHERE id = $1", export_id)  # noqa: S608
    if row is None:
        raise ExportNotFound(f"There is no export {export_id}.")
    return export_to_api(row)


async def export_content(connection: asyncpg.Connection, export_id: uuid.UUID) -> tuple[str, bytes]:
    """The object name and the CSV of a finished export."""
    row = await connection.fetchrow("SELECT object_name, status, content FROM export_jobs WHERE id = $1", export_id)
    if row is None:
        raise ExportNotFound(f"There is no export {export_id}.")
    if row["status"] != "succeeded" or row["content"] is None:
        raise ExportNotReady(f"The export is {row['status']}; download it once it has succeeded.")
    return row["object_name"], bytes(row["content"])


async def fail_export(connection: asyncpg.Connection, export_id: uuid.UUID, reason: str) -> None:
    await connection.execute(
        "UPDATE export_jobs SET status = 'failed', error = $2, finished_at = now() WHERE id = $1", export_id, reason
    )


async def _claim(progress: asyncpg.Connection, export_id: uuid.UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await progress.fetchrow(
        "UPDATE export_jobs SET status = 'running', started_at = now(), finished_at = NULL, processed_rows = 0,"
        " content = NULL, error = NULL WHERE id = $1 AND status <> 'succeeded' RETURNING filter, sorts",
        export_id,
    )
    return row


async def run_export(
    connection: asyncpg.Connection, progress: asyncpg.Connection, obj: ObjectDefinition, export_id: uuid.UUID
) -> int | None:
    """Write the export's CSV into its row; the number of rows (None: already done or missing)."""
    job = await _claim(progress, export_id)
    if job is None:
        return None
    catalogue = query.make_catalogue(query_fields(obj))
    parsed, sorts = parse_export_filter(job["filter"]), _sorts(job["sorts"])
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(export_columns(obj))
    count, total = 0, 0
    async with connection.transaction(isolation="repeatable_read", readonly=True):
        cursor: str | None = None
        pages = 0
        while True:
            page = await query.fetch_page(
                connection, obj.table_name, catalogue, parsed, sorts, query.MAX_LIMIT, cursor, with_total=pages == 0
            )
            total = page.total if page.total is not None else total
            writer.writerows(_line(obj, row) for row in page.rows)
            count, pages, cursor = count + len(page.rows), pages + 1, page.next_cursor
            if pages % _PROGRESS_EVERY == 1 or cursor is None:
                await _progress(progress, export_id, count, total)
            if cursor is None:
                break
    content = codecs.BOM_UTF8 + buffer.getvalue().encode()
    await progress.execute(
        "UPDATE export_jobs SET status = 'succeeded', content = $2, processed_rows = $3, total_rows = $3,"
        " finished_at = now() WHERE id = $1",
        export_id,
        content,
        count,
    )
    return count


async def _progress(progress: asyncpg.Connection, export_id: uuid.UUID, count: int, total: int) -> None:
    await progress.execute(
        "UPDATE export_jobs SET processed_rows = $2, total_rows = $3 WHERE id = $1", export_id, count, total
    )
