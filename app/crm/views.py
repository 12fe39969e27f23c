"""Saved views: a table or a kanban of one object, with its filter, sorts, columns and grouping.

The filter is stored in the JSON form of `app.crm.query`; a value ``"@me"`` means whoever looks at the view
(so one shared "My open tasks" serves everyone). Views made through the API (no person behind the key) are shared.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import asyncpg

from app.crm import query, view_store
from app.crm.fields import FieldType
from app.crm.metadata import Catalogue, ObjectDefinition
from app.crm.queryable import query_fields
from app.crm.records import RecordList, list_records_by
from app.lib.remembered import Remembered

__all__ = [
    "ME",
    "InvalidView",
    "ViewNotFound",
    "create_view",
    "delete_view",
    "get_view",
    "list_views",
    "shown_views",
    "update_view",
    "view_records",
]

ME = "@me"
_NOBODY = uuid.UUID(int=0)
_EDITABLE = ("label_en", "label_ar", "kind", "filter", "sorts", "columns", "group_by", "is_default", "position")


class InvalidView(ValueError):
    pass


class ViewNotFound(LookupError):
    pass


def _with_viewer(node: Any, viewer: uuid.UUID | None) -> Any:
    """The filter JSON with every "@me" replaced by the viewer's id (nobody's, for an API key)."""
    if isinstance(node, dict):
        return {key: _with_viewer(value, viewer) for key, value in node.items()}
    if isinstance(node, list):
        return [_with_viewer(item, viewer) for item in node]
    return str(viewer or _NOBODY) if node == ME else node


def _sorts(raw: Any) -> tuple[query.Sort, ...]:
    if not isinstance(raw, list) or not all(isinstance(item, Mapping) for item in raw):
        raise InvalidView("sorts must be a list of {field, direction?, nulls?}")
    try:
        return tuple(
            query.Sort(
                field=str(item["field"]),
                direction=query.Direction(item.get("direction", "asc")),
                nulls=query.Nulls(item.get("nulls", "last")),
            )
            for item in raw
        )
    except (KeyError, ValueError) as error:
        raise InvalidView(f"bad sort: {error}") from None


def _check(obj: ObjectDefinition, view: Mapping[str, Any]) -> dict[str, Any]:
    """The view's values, checked against the object; raises `InvalidView` or `query.QueryError`."""
    for label in ("label_en", "label_ar"):
        if not isinstance(view.get(label), str) or not 1 <= len(view[label].strip()) <= 100:
            raise InvalidView(f"{label} must be 1 to 100 characters")
    kind = view.get("kind", "table")
    if kind not in ("table", "kanban"):
        raise InvalidView("kind must be 'table' or 'kanban'")
    catalogue = query.make_catalogue(query_fields(obj))
    if view.get("filter") is not None:
        query.validate_filter(query.parse_filter_json(_with_viewer(view["filter"], None)), catalogue)
    query.resolve_sorts(_sorts(view.get("sorts", [])), catalogue)
    names = {field.name for field in obj.fields}
    columns = view.get("columns", [])
    if not isinstance(columns, list) or not all(isinstance(c, str) and c in names for c in columns):
        raise InvalidView(f"columns must be fields of {obj.name}")
    group_by = view.get("group_by")
    if kind == "kanban":
        field = obj.field(group_by) if isinstance(group_by, str) else None
        if field is None or field.type != FieldType.SELECT:
            raise InvalidView("a kanban view groups by a select field (group_by)")
    elif group_by is not None:
        raise InvalidView("only a kanban view has group_by")
    return {
        "label_en": view["label_en"].strip(),
        "label_ar": view["label_ar"].strip(),
        "kind": kind,
        "filter": view.get("filter"),
        "sorts": view.get("sorts", []),
        "columns": columns,
        "group_by": group_by,
        "is_default": bool(view.get("is_default", False)),
        "position": int(view.get("position", 0)),
    }


def _api(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "object": row["object_name"],
        **{key: row[key] for key in _EDITABLE},
        "shared": row["owner_user_id"] is None,
        "updated_at": row["updated_at"].isoformat(),
    }


async def list_views(
    connection: asyncpg.Connection, object_name: str | None, viewer: uuid.UUID | None
) -> list[dict[str, Any]]:
    """Shared views and the viewer's own, of one object or all."""
    return [_api(row) for row in await view_store.fetch_views(connection, object_name, viewer)]


_TENANTS_REMEMBERED = 1000
_every_view: Remembered[tuple[tuple[uuid.UUID | None, dict[str, Any]], ...]] = Remembered(_TENANTS_REMEMBERED)
"""Every saved view of a tenant, kept with the tenant's catalogue: a view saved, changed or deleted bumps the
catalogue's version (tenant migration 0011), which gives the tenant a new catalogue, so these are never stale.
Each with its owner (None: shared)."""


async def shown_views(
    connection: asyncpg.Connection, catalogue: Catalogue, object_name: str, viewer: uuid.UUID
) -> list[dict[str, Any]]:
    """What `list_views` answers, for the dashboard's pages: read once per catalogue. Treat them as read-only."""
    every = _every_view.get(catalogue, "views")
    if every is None:
        every = tuple((row["owner_user_id"], _api(row)) for row in await view_store.fetch_every_view(connection))
        _every_view.put(catalogue, "views", every)
    return [view for owner, view in every if view["object"] == object_name and owner in (None, viewer)]


async def get_view(connection: asyncpg.Connection, view_id: uuid.UUID, viewer: uuid.UUID | None) -> dict[str, Any]:
    row = await view_store.fetch_view(connection, view_id, viewer)
    if row is None:
        raise ViewNotFound(str(view_id))
    return _api(row)


async def create_view(
    connection: asyncpg.Connection, catalogue: Catalogue, data: Mapping[str, Any], owner: uuid.UUID | None
) -> dict[str, Any]:
    obj = catalogue.get(str(data.get("object", "")))
    if obj is None:
        raise InvalidView("object must name one of the tenant's objects")
    values = _check(obj, data)
    return _api(await view_store.insert_view(connection, obj.name, values, owner))


async def update_view(
    connection: asyncpg.Connection,
    catalogue: Catalogue,
    view_id: uuid.UUID,
    changes: Mapping[str, Any],
    viewer: uuid.UUID | None,
) -> dict[str, Any]:
    unknown = set(changes) - set(_EDITABLE)
    if unknown:
        raise InvalidView(f"cannot change {', '.join(sorted(unknown))}")
    current = await get_view(connection, view_id, viewer)
    obj = catalogue.get(current["object"])
    assert obj is not None
    values = _check(obj, {**current, **changes})
    return _api(await view_store.update_view(connection, view_id, values))


async def delete_view(connection: asyncpg.Connection, view_id: uuid.UUID, viewer: uuid.UUID | None) -> None:
    await get_view(connection, view_id, viewer)
    await view_store.delete_view(connection, view_id)


async def view_records(
    connection: asyncpg.Connection,
    catalogue: Catalogue,
    view_id: uuid.UUID,
    viewer: uuid.UUID | None,
    *,
    limit: int,
    cursor: str | None,
    with_total: bool,
) -> tuple[dict[str, Any], RecordList]:
    view = await get_view(connection, view_id, viewer)
    obj = catalogue.get(view["object"])
    assert obj is not None
    raw_filter = view["filter"]
    parsed = None if raw_filter is None else query.parse_filter_json(_with_viewer(raw_filter, viewer))
    page = await list_records_by(
        connection, obj, filter=parsed, sorts=_sorts(view["sorts"]), limit=limit, cursor=cursor, with_total=with_total
    )
    return view, page
