"""The tenant REST API for records: ``/api/v1/{object}`` and ``/api/v1/{object}/{id}`` (HTTP only)."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from litestar import Request, Response, Router, delete, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody

from app.accounts.access import ApiAccess, api_key_access
from app.crm import duplicates, links, records
from app.crm.records import Actor
from app.crm.search import MAX_HITS_PER_OBJECT, search_everything
from app.crm.services import catalogue_of, crm_connection, object_of

__all__ = ["RECORD_ROUTES"]

_BODY_LIMIT = 256 * 1024
_BATCH = 4 * 1024 * 1024


class BatchCreate(msgspec.Struct, forbid_unknown_fields=True):
    records: list[dict[str, Any]]


class BatchChange(msgspec.Struct, forbid_unknown_fields=True):
    ids: list[uuid.UUID]
    changes: dict[str, Any]


class BatchDelete(msgspec.Struct, forbid_unknown_fields=True):
    ids: list[uuid.UUID]


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


@get("/search", summary="Search every object at once, in Arabic or English")
async def search(
    request: Request[Any, Any, Any],
    access: NamedDependency[ApiAccess],
    q: FromQuery[str],
    per_object: FromQuery[int] = 5,
) -> dict[str, Any]:
    """Best hits per object for `q` (names, e-mails, phone numbers in any common notation, SKUs, order
    references...). Arabic spelling variants match (أحمد finds احمد); Latin ignores case and accents."""
    async with crm_connection(access.tenant, request.app.state.settings) as connection:
        catalogue = await catalogue_of(connection, access.tenant)
        hits = await search_everything(
            connection, catalogue, q, per_object=max(1, min(per_object, MAX_HITS_PER_OBJECT))
        )
    return {"query": q, "results": hits}


@get("/{object_name:str}", summary="List records: filter, sort, keyset pages")
async def list_records(
    request: Request[Any, Any, Any],
    access: NamedDependency[ApiAccess],
    object_name: FromPath[str],
    filter: FromQuery[str | None] = None,
    sort: FromQuery[str | None] = None,
    limit: FromQuery[str | None] = None,
    cursor: FromQuery[str | None] = None,
    total: FromQuery[bool] = False,
) -> dict[str, Any]:
    """`filter` takes `and(city[eq]:"Riyadh",or(total_amount_minor[gte]:10000,status[in]:["paid"]))` or the same
    tree as JSON (`{"and": [{"field": "city", "op": "eq", "value": "Riyadh"}]}`); operators eq, neq, gt, gte, lt,
    lte, in, is_null, contains, starts_with. `sort` is `field[:asc|desc][:nulls_first|nulls_last],...`. Pages of
    `limit` (default 50, at most 200); pass `next_cursor` back as `cursor` for the next page; `total=true` counts."""
    async with crm_connection(access.tenant, request.app.state.settings) as connection:
        obj = await object_of(connection, access.tenant, object_name)
        page = await records.list_records(
            connection,
            obj,
            filter_text=filter,
            sort_text=sort,
            limit_text=limit,
            cursor=cursor,
            with_total=total,
        )
    return {"data": page.records, "next_cursor": page.next_cursor, "total": page.total}


@post("/{object_name:str}/batch", summary="Create up to 200 records, all or nothing", request_max_body_size=_BATCH)
async def create_batch(
    request: Request[Any, Any, Any],
    access: NamedDependency[ApiAccess],
    object_name: FromPath[str],
    data: JSONBody[BatchCreate],
) -> Response[dict[str, Any]]:
    async with crm_connection(access.tenant, request.app.state.settings) as connection:
        obj = await object_of(connection, access.tenant, object_name)
        created = await records.create_records(connection, obj, data.records, _actor(access))
    return Response({"data": created}, status_code=201)


@patch(
    "/{object_name:str}/batch",
    summary="Same changes to up to 200 records",
    request_max_body_size=_BATCH,
)
async def change_batch(
    request: Request[Any, Any, Any],
    access: NamedDependency[ApiAccess],
    object_name: FromPath[str],
    data: JSONBody[BatchChange],
) -> dict[str, Any]:
    async with crm_connection(access.tenant, request.app.state.settings) as connection:
        obj = await object_of(connection, access.tenant, object_name)
        return {"data": await records.update_records(connection, obj, data.ids, data.changes, _actor(access))}


@post("/{object_name:str}/batch/delete", summary="Delete up to 200 records", request_max_body_size=_BATCH)
async def delete_batch(
    request: Request[Any, Any, Any],
    access: NamedDependency[ApiAccess],
    object_name: FromPath[str],
    data: JSONBody[BatchDelete],
) -> Response[None]:
    async with crm_connection(access.tenant, request.app.state.settings) as connection:
        obj = await object_of(connection, access.tenant, object_name)
        await records.delete_records(connection, obj, data.ids, _actor(access))
    return Response(None, status_code=204)


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


@get("/{object_name:str}/{record_id:uuid}/timeline", summary="What happened to a record, newest first")
async def record_timeline(
    request: Request[Any, Any, Any],
    access: NamedDependency[ApiAccess],
    object_name: FromPath[str],
    record_id: FromPath[uuid.UUID],
) -> dict[str, Any]:
    async with crm_connection(access.tenant, request.app.state.settings) as connection:
        obj = await object_of(connection, access.tenant, object_name)
        return {"data": await records.timeline(connection, obj, record_id)}


@get("/{object_name:str}/{record_id:uuid}/duplicates", summary="Records that look like the same one")
async def record_duplicates(
    request: Request[Any, Any, Any],
    access: NamedDependency[ApiAccess],
    object_name: FromPath[str],
    record_id: FromPath[uuid.UUID],
) -> dict[str, Any]:
    """People sharing a phone number or an e-mail address; companies sharing a website."""
    async with crm_connection(access.tenant, request.app.state.settings) as connection:
        obj = await object_of(connection, access.tenant, object_name)
        return {"data": await duplicates.find_duplicates(connection, obj, record_id)}


class MergeRequest(msgspec.Struct, forbid_unknown_fields=True):
    duplicate_id: uuid.UUID


@post("/{object_name:str}/{record_id:uuid}/merge", summary="Merge a duplicate into this record")
async def merge_record(
    request: Request[Any, Any, Any],
    access: NamedDependency[ApiAccess],
    object_name: FromPath[str],
    record_id: FromPath[uuid.UUID],
    data: JSONBody[MergeRequest],
) -> Response[dict[str, Any]]:
    """Empty fields are filled from the duplicate, relations and links move here, the duplicate is deleted."""
    async with crm_connection(access.tenant, request.app.state.settings) as connection:
        catalogue = await catalogue_of(connection, access.tenant)
        obj = await object_of(connection, access.tenant, object_name)
        merged = await duplicates.merge_records(
            connection, catalogue, obj, record_id, data.duplicate_id, _actor(access)
        )
    return Response(merged, status_code=200)


class LinkRequest(msgspec.Struct, forbid_unknown_fields=True):
    object: str
    id: uuid.UUID
    relation: str = "related"


@post("/{object_name:str}/{record_id:uuid}/links", summary="Link another record (a note, a task...) to this one")
async def link_record(
    request: Request[Any, Any, Any],
    access: NamedDependency[ApiAccess],
    object_name: FromPath[str],
    record_id: FromPath[uuid.UUID],
    data: JSONBody[LinkRequest],
) -> Response[dict[str, Any]]:
    async with crm_connection(access.tenant, request.app.state.settings) as connection:
        obj = await object_of(connection, access.tenant, object_name)
        other = await object_of(connection, access.tenant, data.object)
        created = await links.link_records(
            connection, (obj, record_id), (other, data.id), _actor(access), relation=data.relation
        )
    return Response({"linked": True}, status_code=201 if created else 200)


@delete("/{object_name:str}/{record_id:uuid}/links/{other_object:str}/{other_id:uuid}", summary="Remove a link")
async def unlink_record(
    request: Request[Any, Any, Any],
    access: NamedDependency[ApiAccess],
    object_name: FromPath[str],
    record_id: FromPath[uuid.UUID],
    other_object: FromPath[str],
    other_id: FromPath[uuid.UUID],
) -> None:
    async with crm_connection(access.tenant, request.app.state.settings) as connection:
        obj = await object_of(connection, access.tenant, object_name)
        other = await object_of(connection, access.tenant, other_object)
        await links.unlink_records(connection, (obj, record_id), (other, other_id))


@get("/{object_name:str}/{record_id:uuid}/related", summary="Everything related to a record, by object")
async def related(
    request: Request[Any, Any, Any],
    access: NamedDependency[ApiAccess],
    object_name: FromPath[str],
    record_id: FromPath[uuid.UUID],
) -> dict[str, Any]:
    """Linked records (notes, tasks, anything) and records whose relation fields point here (orders of a customer,
    people of a company, deals of a contact)."""
    async with crm_connection(access.tenant, request.app.state.settings) as connection:
        catalogue = await catalogue_of(connection, access.tenant)
        obj = await object_of(connection, access.tenant, object_name)
        return {"data": await links.related_records(connection, catalogue, obj, record_id)}


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
    route_handlers=[
        search,
        list_records,
        create_record,
        create_batch,
        change_batch,
        delete_batch,
        read_record,
        record_timeline,
        record_duplicates,
        merge_record,
        link_record,
        unlink_record,
        related,
        change_record,
        delete_record,
        restore_record,
    ],
    dependencies={"access": Provide(api_key_access)},
    tags=["records"],
)
