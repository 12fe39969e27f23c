"""The REST API for the tenant's objects and fields: ``/api/v1/metadata/objects`` (HTTP only).

API keys are created by tenant admins, so a key may change the schema. The rules live in `app.crm.schema_changes`;
its exceptions answer 400 (`SchemaChangeRefused`, `LimitReached`, `OptionInUse`), 409 (`SchemaConflict`) and 404
(`UnknownObject`, `UnknownField`), through the handlers on this router.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router, delete, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody

from app.accounts.access import ApiAccess, api_key_access
from app.crm import schema_changes
from app.crm.schema_changes import SchemaChangeRefused, SchemaConflict, UnknownField
from app.crm.services import UnknownObject, crm_connection
from app.lib.errors import answer_with

__all__ = ["METADATA_ROUTES", "metadata_exception_handlers"]

_BODY_LIMIT = 64 * 1024

metadata_exception_handlers: dict[type[Exception] | int, Any] = {
    SchemaChangeRefused: answer_with(400),
    SchemaConflict: answer_with(409),
    UnknownField: answer_with(404),
    UnknownObject: answer_with(404),
}


def _actor(access: ApiAccess) -> str:
    return f"api_key:{access.key.prefix}"


@get("/objects", summary="Every object with its fields: names, labels, types, options")
async def list_objects(request: Request[Any, Any, Any], access: NamedDependency[ApiAccess]) -> dict[str, Any]:
    async with crm_connection(access.tenant, request.app.state.settings) as connection:
        return {"data": await schema_changes.describe_objects(connection)}


@get("/objects/{object_name:str}", summary="One object with its fields")
async def read_object(
    request: Request[Any, Any, Any], access: NamedDependency[ApiAccess], object_name: FromPath[str]
) -> dict[str, Any]:
    async with crm_connection(access.tenant, request.app.state.settings) as connection:
        return await schema_changes.describe_object(connection, object_name)


@post("/objects", summary="Create a custom object", status_code=201, request_max_body_size=_BODY_LIMIT)
async def create_object(
    request: Request[Any, Any, Any], access: NamedDependency[ApiAccess], data: JSONBody[dict[str, Any]]
) -> Response[dict[str, Any]]:
    """`{"name": "tickets", "singular": "ticket", "label_singular_en": "Ticket", "label_singular_ar": "تذكرة",
    "label_plural_en": "Tickets", "label_plural_ar": "التذاكر"}`: a table with a `name` field, and records at
    `/api/v1/tickets`. At most 50 custom objects."""
    new = schema_changes.new_object_from_json(data)
    async with crm_connection(access.tenant, request.app.state.settings) as connection:
        created = await schema_changes.create_object(connection, access.tenant, new, actor=_actor(access))
    return Response(created, status_code=201)


@patch(
    "/objects/{object_name:str}", summary="Relabel an object, or rename a custom one", request_max_body_size=_BODY_LIMIT
)
async def change_object(
    request: Request[Any, Any, Any],
    access: NamedDependency[ApiAccess],
    object_name: FromPath[str],
    data: JSONBody[dict[str, Any]],
) -> dict[str, Any]:
    """Any of `name`, `singular` (custom objects only: records stay) and the four labels."""
    changes = schema_changes.object_changes_from_json(data)
    async with crm_connection(access.tenant, request.app.state.settings) as connection:
        return await schema_changes.change_object(connection, access.tenant, object_name, changes, actor=_actor(access))


@delete("/objects/{object_name:str}", summary="Remove a custom object with all its records")
async def remove_object(
    request: Request[Any, Any, Any], access: NamedDependency[ApiAccess], object_name: FromPath[str]
) -> None:
    async with crm_connection(access.tenant, request.app.state.settings) as connection:
        await schema_changes.remove_object(connection, access.tenant, object_name, actor=_actor(access))


@post(
    "/objects/{object_name:str}/fields",
    summary="Add a custom field",
    status_code=201,
    request_max_body_size=_BODY_LIMIT,
)
async def add_field(
    request: Request[Any, Any, Any],
    access: NamedDependency[ApiAccess],
    object_name: FromPath[str],
    data: JSONBody[dict[str, Any]],
) -> Response[dict[str, Any]]:
    """`{"name": "loyalty_tier", "type": "select", "label_en": "Loyalty tier", "label_ar": "فئة الولاء",
    "options": [{"value": "gold", "label_en": "Gold", "label_ar": "ذهبي", "color": "yellow"}]}`; also `required`,
    `unique`, `default`, `settings`, `searchable`. A required field on an object with records needs a `default`,
    which fills them. At most 100 custom fields per object."""
    field = schema_changes.field_from_json(data)
    async with crm_connection(access.tenant, request.app.state.settings) as connection:
        added = await schema_changes.add_field(connection, access.tenant, object_name, field, actor=_actor(access))
    return Response(added, status_code=201)


@patch(
    "/objects/{object_name:str}/fields/{field_name:str}",
    summary="Relabel a field, change its options, or rename a custom one",
    request_max_body_size=_BODY_LIMIT,
)
async def change_field(
    request: Request[Any, Any, Any],
    access: NamedDependency[ApiAccess],
    object_name: FromPath[str],
    field_name: FromPath[str],
    data: JSONBody[dict[str, Any]],
) -> dict[str, Any]:
    """Any of `label_en`, `label_ar`, `options` (the whole new list: options records still use stay),
    `searchable`, and for custom fields `name` (values stay) and `required`."""
    changes = schema_changes.field_changes_from_json(data)
    async with crm_connection(access.tenant, request.app.state.settings) as connection:
        return await schema_changes.change_field(
            connection, access.tenant, object_name, field_name, changes, actor=_actor(access)
        )


@delete("/objects/{object_name:str}/fields/{field_name:str}", summary="Remove a custom field and its values")
async def remove_field(
    request: Request[Any, Any, Any],
    access: NamedDependency[ApiAccess],
    object_name: FromPath[str],
    field_name: FromPath[str],
) -> None:
    async with crm_connection(access.tenant, request.app.state.settings) as connection:
        await schema_changes.remove_field(connection, access.tenant, object_name, field_name, actor=_actor(access))


METADATA_ROUTES = Router(
    path="/api/v1/metadata",
    route_handlers=[
        list_objects,
        read_object,
        create_object,
        change_object,
        remove_object,
        add_field,
        change_field,
        remove_field,
    ],
    dependencies={"access": Provide(api_key_access)},
    exception_handlers=metadata_exception_handlers,
    tags=["metadata"],
)
