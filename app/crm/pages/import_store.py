"""The SQL of the import wizard and of exports of a list view, in the tenant's database (tenant migration 0008):
uploads waiting between the wizard's steps (``import_drafts``), the columns an export of a view keeps
(``export_view_columns``), and light reads of the engine's job rows (never the uploaded or exported file)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import asyncpg

__all__ = [
    "DRAFT_DAYS",
    "fetch_draft",
    "fetch_draft_file",
    "fetch_export_columns",
    "fetch_import_status",
    "insert_draft",
    "mark_draft_run",
    "recent_imports",
    "save_draft_choices",
    "save_export_columns",
]

DRAFT_DAYS = 1
"""Uploads never run are deleted after this many days (by the next upload)."""

_IMPORT_STATUS = (
    "id, object_name, status, mode, dedupe_field, mapping, file_name, total_rows, processed_rows, created_rows,"
    " updated_rows, failed_rows, report, error, created_at, started_at, finished_at"
)


_DRAFT = (
    "id, object_name, file_name, header, samples, total_rows, mapping, mode, dedupe_field, created_by, import_id,"
    " created_at, updated_at"
)


async def insert_draft(
    connection: asyncpg.Connection,
    *,
    object_name: str,
    file_name: str,
    content: bytes,
    header: list[str],
    samples: list[list[str]],
    total_rows: int,
    created_by: str,
) -> uuid.UUID:
    await connection.execute(
        "DELETE FROM import_drafts WHERE created_at < now() - make_interval(days => $1)", DRAFT_DAYS
    )
    draft_id: uuid.UUID = await connection.fetchval(
        "INSERT INTO import_drafts (object_name, file_name, content, header, samples, total_rows, created_by)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        object_name,
        file_name[:255],
        content,
        header,
        samples,
        total_rows,
        created_by,
    )
    return draft_id


async def fetch_draft(connection: asyncpg.Connection, draft_id: uuid.UUID, created_by: str) -> asyncpg.Record | None:
    """The draft without its file, if ``created_by`` uploaded it."""
    row: asyncpg.Record | None = await connection.fetchrow(
        f"SELECT {_DRAFT} FROM import_drafts WHERE id = $1 AND created_by = $2",  # noqa: S608 (constant columns)
        draft_id,
        created_by,
    )
    return row


async def fetch_draft_file(connection: asyncpg.Connection, draft_id: uuid.UUID) -> bytes:
    content: bytes = await connection.fetchval("SELECT content FROM import_drafts WHERE id = $1", draft_id)
    return content


async def save_draft_choices(
    connection: asyncpg.Connection,
    draft_id: uuid.UUID,
    *,
    mapping: Mapping[str, str | None],
    mode: str,
    dedupe_field: str | None,
) -> None:
    await connection.execute(
        "UPDATE import_drafts SET mapping = $2, mode = $3, dedupe_field = $4, updated_at = now() WHERE id = $1",
        draft_id,
        dict(mapping),
        mode,
        dedupe_field,
    )


async def mark_draft_run(connection: asyncpg.Connection, draft_id: uuid.UUID, import_id: uuid.UUID) -> bool:
    """Link the draft to its import; False if it already has one (the run button was pressed twice)."""
    updated = await connection.fetchval(
        "UPDATE import_drafts SET import_id = $2, updated_at = now() WHERE id = $1 AND import_id IS NULL RETURNING id",
        draft_id,
        import_id,
    )
    return updated is not None


async def fetch_import_status(connection: asyncpg.Connection, import_id: uuid.UUID) -> asyncpg.Record | None:
    """An import job's row without its file (the progress page reads it twice a second)."""
    row: asyncpg.Record | None = await connection.fetchrow(
        f"SELECT {_IMPORT_STATUS} FROM import_jobs WHERE id = $1",  # noqa: S608 (constant column list)
        import_id,
    )
    return row


async def recent_imports(connection: asyncpg.Connection, limit: int = 10) -> list[dict[str, Any]]:
    rows = await connection.fetch(
        "SELECT id, object_name, status, file_name, total_rows, created_rows, updated_rows, failed_rows, created_at"
        " FROM import_jobs ORDER BY created_at DESC LIMIT $1",
        limit,
    )
    return [dict(row) for row in rows]


async def save_export_columns(connection: asyncpg.Connection, export_id: uuid.UUID, columns: list[str]) -> None:
    await connection.execute("INSERT INTO export_view_columns (export_id, columns) VALUES ($1, $2)", export_id, columns)


async def fetch_export_columns(connection: asyncpg.Connection, export_id: uuid.UUID) -> list[str] | None:
    columns: list[str] | None = await connection.fetchval(
        "SELECT columns FROM export_view_columns WHERE export_id = $1", export_id
    )
    return columns
