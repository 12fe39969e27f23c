"""The tenant REST API for records: ``/api/v1/{object}`` and ``/api/v1/{object}/{id}`` (HTTP only)."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Response, Router, delete, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody

from app.accounts.access import ApiAccess, api_key_access
from app.crm import records
from app.crm.records import Actor
from app.crm.services import crm_connection, object_of

__all__ = ["RECORD_ROUTES"]

_BODY_LIMIT = 256 * 1024


def _actor(access: ApiAccess) -> Actor:
    return Actor(source="api_key", id=str(access.key.id), name=access.key.name)


@post("/{object_name:str}", summary="Create a record", request_max_body_size=_BODY_LIMIT)
async def create_record(
    request: Request[Any, Any, Any],
    access: NamedDependency[ApiAccess],
    object_name: FromPath[str],
    data: JSONBody[dict[str, Any]],
) -> Response[dict[str, Any]]:
    async with crm_connection(access.tenant, request.app.state.settings) as connection:
        obj = await object_of(connection, access.tenant, object_name)
        record = await records.create_record(connection, obj, data, _actor(access))
    return Response(record, status_code=201)


@get("/{object_name:str}/{record_id:uuid}", summary="Read a record")
async def read_record(
    request: Request[Any, Any, Any],
    access: NamedDependency[ApiAccess],
    object_name: FromPath[str],
    record_id: FromPath[uuid.UUID],
) -> dict[str, Any]:
    async with crm_connection(access.tenant, request.app.state.settings) as connection:
        obj = await object_of(connection, access.tenant, object_name)
        return await records.get_record(connection, obj, record_id)


@patch(
    "/{object_name:str}/{record_id:uuid}",
    summary="Change some fields of a record",
    request_max_body_size=_BODY_LIMIT,
)
async def change_record(
    request: Request[Any, Any, Any],
    access: NamedDependency[ApiAccess],
    object_name: FromPath[str],
    record_id: FromPath[uuid.UUID],
    data: JSONBody[dict[str, Any]],
) -> dict[str, Any]:
    async with crm_connection(access.tenant, request.app.state.settings) as connection:
        obj = await object_of(connection, access.tenant, object_name)
        return await records.update_record(connection, obj, record_id, data, _actor(access))


@delete("/{object_name:str}/{record_id:uuid}", summary="Delete a record (it can be restored)")
async def delete_record(
    request: Request[Any, Any, Any],
    access: NamedDependency[ApiAccess],
    object_name: FromPath[str],
    record_id: FromPath[uuid.UUID],
) -> None:
    async with crm_connection(access.tenant, request.app.state.settings) as connection:
        obj = await object_of(connection, access.tenant, object_name)
        await records.delete_record(connection, obj, record_id, _actor(access))


@post("/{object_name:str}/{record_id:uuid}/restore", summary="Restore a deleted record")
async def restore_record(
    request: Request[Any, Any, Any],
    access: NamedDependency[ApiAccess],
    object_name: FromPath[str],
    record_id: FromPath[uuid.UUID],
) -> Response[dict[str, Any]]:
    async with crm_connection(access.tenant, request.app.state.settings) as connection:
        obj = await object_of(connection, access.tenant, object_name)
        record = await records.restore_record(connection, obj, record_id, _actor(access))
    return Response(record, status_code=200)


RECORD_ROUTES = Router(
    path="/api/v1",
    route_handlers=[create_record, read_record, change_record, delete_record, restore_record],
    dependencies={"access": Provide(api_key_access)},
    tags=["records"],
)
