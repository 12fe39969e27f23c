"""The REST API for saved views: ``/api/v1/views`` (HTTP only). API keys have no person behind them, so their
views are shared and "@me" in a filter matches nobody."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Response, Router, delete, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody

from app.accounts.access import ApiAccess, api_key_access
from app.crm import query, views
from app.crm.services import catalogue_of, crm_connection

__all__ = ["VIEW_ROUTES"]


@get("/", summary="Saved views (of one object with ?object=)")
async def list_views(
    request: Request[Any, Any, Any], access: NamedDependency[ApiAccess], object: FromQuery[str | None] = None
) -> dict[str, Any]:
    async with crm_connection(access.tenant, request.app.state.settings) as connection:
        return {"data": await views.list_views(connection, object, None)}


@post("/", summary="Save a view", request_max_body_size=64 * 1024)
async def create_view(
    request: Request[Any, Any, Any], access: NamedDependency[ApiAccess], data: JSONBody[dict[str, Any]]
) -> Response[dict[str, Any]]:
    async with crm_connection(access.tenant, request.app.state.settings) as connection:
        catalogue = await catalogue_of(connection, access.tenant)
        return Response(await views.create_view(connection, catalogue, data, None), status_code=201)


@patch("/{view_id:uuid}", summary="Change a view", request_max_body_size=64 * 1024)
async def change_view(
    request: Request[Any, Any, Any],
    access: NamedDependency[ApiAccess],
    view_id: FromPath[uuid.UUID],
    data: JSONBody[dict[str, Any]],
) -> dict[str, Any]:
    async with crm_connection(access.tenant, request.app.state.settings) as connection:
        catalogue = await catalogue_of(connection, access.tenant)
        return await views.update_view(connection, catalogue, view_id, data, None)


@delete("/{view_id:uuid}", summary="Delete a view")
async def delete_view(
    request: Request[Any, Any, Any], access: NamedDependency[ApiAccess], view_id: FromPath[uuid.UUID]
) -> None:
    async with crm_connection(access.tenant, request.app.state.settings) as connection:
        await views.delete_view(connection, view_id, None)


@get("/{view_id:uuid}/records", summary="The records a view shows, a page at a time")
async def view_records(
    request: Request[Any, Any, Any],
    access: NamedDependency[ApiAccess],
    view_id: FromPath[uuid.UUID],
    limit: FromQuery[str | None] = None,
    cursor: FromQuery[str | None] = None,
    total: FromQuery[bool] = False,
) -> dict[str, Any]:
    async with crm_connection(access.tenant, request.app.state.settings) as connection:
        catalogue = await catalogue_of(connection, access.tenant)
        view, page = await views.view_records(
            connection, catalogue, view_id, None, limit=query.parse_limit(limit), cursor=cursor, with_total=total
        )
    return {"view": view, "data": page.records, "next_cursor": page.next_cursor, "total": page.total}


VIEW_ROUTES = Router(
    path="/api/v1/views",
    route_handlers=[list_views, create_view, change_view, delete_view, view_records],
    dependencies={"access": Provide(api_key_access)},
    tags=["views"],
)
