"""SQL for saved views (the tenant's ``views`` table)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg

__all__ = ["delete_view", "fetch_every_view", "fetch_view", "fetch_views", "insert_view", "update_view"]

_VISIBLE = "(owner_user_id IS NULL OR owner_user_id = $2)"
"""Shared views, and the viewer's own."""


async def fetch_views(
    connection: asyncpg.Connection, object_name: str | None, viewer: uuid.UUID | None
) -> Sequence[asyncpg.Record]:
    rows: Sequence[asyncpg.Record] = await connection.fetch(
        f"SELECT * FROM views WHERE ($1::text IS NULL OR object_name = $1) AND {_VISIBLE} "  # noqa: S608 (constant)
        "ORDER BY object_name, position, label_en",
        object_name,
        viewer,
    )
    return rows


async def fetch_every_view(connection: asyncpg.Connection) -> Sequence[asyncpg.Record]:
    """Every view of every object and person, in the order `fetch_views` gives them."""
    rows: Sequence[asyncpg.Record] = await connection.fetch(
        "SELECT * FROM views ORDER BY object_name, position, label_en"
    )
    return rows


async def fetch_view(
    connection: asyncpg.Connection, view_id: uuid.UUID, viewer: uuid.UUID | None
) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await connection.fetchrow(
        f"SELECT * FROM views WHERE id = $1 AND {_VISIBLE}",  # noqa: S608 (constant)
        view_id,
        viewer,
    )
    return row


async def insert_view(
    connection: asyncpg.Connection, object_name: str, values: Mapping[str, Any], owner: uuid.UUID | None
) -> asyncpg.Record:
    """``values`` holds exactly the editable columns, in `app.crm.views` order."""
    names = ["object_name", *values, "owner_user_id"]
    placeholders = ", ".join(f"${n}" for n in range(1, len(names) + 1))
    row: asyncpg.Record = await connection.fetchrow(
        f"INSERT INTO views ({', '.join(names)}) VALUES ({placeholders}) RETURNING *",  # noqa: S608 (fixed names)
        object_name,
        *values.values(),
        owner,
    )
    return row


async def update_view(connection: asyncpg.Connection, view_id: uuid.UUID, values: Mapping[str, Any]) -> asyncpg.Record:
    assignments = ", ".join(f"{name} = ${n}" for n, name in enumerate(values, start=2))
    row: asyncpg.Record = await connection.fetchrow(
        f"UPDATE views SET {assignments}, updated_at = now() WHERE id = $1 RETURNING *",  # noqa: S608 (fixed names)
        view_id,
        *values.values(),
    )
    return row


async def delete_view(connection: asyncpg.Connection, view_id: uuid.UUID) -> None:
    await connection.execute("DELETE FROM views WHERE id = $1", view_id)
