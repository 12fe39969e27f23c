"""CSV import and export over the REST API (HTTP only; the work runs as SAQ jobs, see tasks/imports.py).

- ``POST /api/v1/imports``: multipart/form-data with ``file`` (the CSV), ``object`` (e.g. people), ``mode``
  (all_or_nothing | skip_bad_rows), ``dedupe_field`` (optional) and ``mapping`` (optional JSON object
  {"CSV column": "field"}); at most 50 MB. 202 with the job and its ``status_url``.
- ``GET /api/v1/imports/{id}``: status, progress {processed, total}, counts, report.
- ``POST /api/v1/exports``: JSON {"object", "filter" (either syntax of the list endpoint), "sort"}. 202.
- ``GET /api/v1/exports/{id}`` and ``GET /api/v1/exports/{id}/download`` (text/csv, UTF-8 with BOM).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, MultipartBody
from saq import Queue

from app.accounts.access import ApiAccess, api_key_access
from app.crm import exports, imports
from app.crm.exports import ExportNotFound, ExportNotReady
from app.crm.imports import ImportNotFound, ImportRefused, UploadTooLarge
from app.crm.query import QueryError
from app.crm.services import UnknownObject, crm_connection, object_of
from app.lib.errors import answer_with
from tasks.imports import EXPORT_JOB, IMPORT_JOB, JOB_OPTIONS

__all__ = ["EXPORT_ROUTES", "IMPORT_ROUTES", "import_exception_handlers"]

_FORM_SLACK = 1024 * 1024
"""Room for the multipart envelope and the other form fields beside the file."""


@dataclass
class ImportForm:
    file: UploadFile
    object: str
    mode: str = "all_or_nothing"
    dedupe_field: str | None = None
    mapping: str | None = None


class ExportRequest(msgspec.Struct, forbid_unknown_fields=True):
    object: str
    filter: str | dict[str, Any] | None = None
    sort: str | None = None


def _mapping(text: str | None) -> dict[str, str | None] | None:
    if text is None or not text.strip():
        return None
    try:
        mapping = json.loads(text)
    except ValueError:
        raise ImportRefused('mapping must be a JSON object such as {"E-mail": "email"}') from None
    if not isinstance(mapping, dict) or not all(
        isinstance(key, str) and (value is None or isinstance(value, str)) for key, value in mapping.items()
    ):
        raise ImportRefused("mapping must map CSV column names to field names (or null to skip a column)")
    return mapping


def _creator(access: ApiAccess) -> str:
    return f"api_key:{access.key.id}"


async def _enqueue(queue: Queue, job: str, key: str, **kwargs: str) -> None:
    await queue.enqueue(job, key=key, **kwargs, **JOB_OPTIONS)


@post(
    "/",
    summary="Import a CSV file into an object (as a job)",
    request_max_body_size=imports.MAX_UPLOAD_BYTES + _FORM_SLACK,
    status_code=202,
)
async def start_import(
    request: Request[Any, Any, Any],
    access: NamedDependency[ApiAccess],
    data: MultipartBody[ImportForm],
) -> Response[dict[str, Any]]:
    """Checks the header, mapping and options straight away (400 with the reason, nothing stored); rows are
    validated by the job, whose report names every bad row and field."""
    content = await data.file.read()
    async with crm_connection(access.tenant, request.app.state.settings) as connection:
        obj = await object_of(connection, access.tenant, data.object)
        job = await imports.create_import(
            connection,
            obj,
            content=content,
            file_name=data.file.filename or "",
            mode=data.mode,
            dedupe_field=data.dedupe_field or None,
            mapping=_mapping(data.mapping),
            created_by=_creator(access),
        )
    await _enqueue(
        request.app.state.queue, IMPORT_JOB, f"import:{job['id']}", tenant_id=str(access.tenant.id), import_id=job["id"]
    )
    job["status_url"] = f"/api/v1/imports/{job['id']}"
    return Response(job, status_code=202)


@get("/{import_id:uuid}", summary="An import's status, progress, counts and report")
async def read_import(
    request: Request[Any, Any, Any], access: NamedDependency[ApiAccess], import_id: FromPath[uuid.UUID]
) -> dict[str, Any]:
    async with crm_connection(access.tenant, request.app.state.settings) as connection:
        job = await imports.get_import(connection, import_id)
    if job["status"] == "pending":  # Redis may have lost the job: enqueue again (a no-op while it is queued)
        await _enqueue(
            request.app.state.queue, IMPORT_JOB, f"import:{import_id}", tenant_id=str(access.tenant.id),
            import_id=str(import_id),
        )  # fmt: skip
    return job


@post("/", summary="Export an object's records as CSV (as a job)", status_code=202)
async def start_export(
    request: Request[Any, Any, Any], access: NamedDependency[ApiAccess], data: JSONBody[ExportRequest]
) -> Response[dict[str, Any]]:
    """Every matching row, no cap; `filter` and `sort` take the syntax of `GET /api/v1/{object}`."""
    async with crm_connection(access.tenant, request.app.state.settings) as connection:
        obj = await object_of(connection, access.tenant, data.object)
        job = await exports.create_export(
            connection, obj, filter=data.filter, sort=data.sort, created_by=_creator(access)
        )
    await _enqueue(
        request.app.state.queue, EXPORT_JOB, f"export:{job['id']}", tenant_id=str(access.tenant.id), export_id=job["id"]
    )
    job["status_url"] = f"/api/v1/exports/{job['id']}"
    job["download_url"] = f"/api/v1/exports/{job['id']}/download"
    return Response(job, status_code=202)


@get("/{export_id:uuid}", summary="An export's status and progress")
async def read_export(
    request: Request[Any, Any, Any], access: NamedDependency[ApiAccess], export_id: FromPath[uuid.UUID]
) -> dict[str, Any]:
    async with crm_connection(access.tenant, request.app.state.settings) as connection:
        job = await exports.get_export(connection, export_id)
    if job["status"] == "pending":  # Redis may have lost the job: enqueue again (a no-op while it is queued)
        await _enqueue(
            request.app.state.queue, EXPORT_JOB, f"export:{export_id}", tenant_id=str(access.tenant.id),
            export_id=str(export_id),
        )  # fmt: skip
    return job


@get("/{export_id:uuid}/download", summary="The CSV of a finished export", media_type="text/csv; charset=utf-8")
async def download_export(
    request: Request[Any, Any, Any], access: NamedDependency[ApiAccess], export_id: FromPath[uuid.UUID]
) -> Response[bytes]:
    async with crm_connection(access.tenant, request.app.state.settings) as connection:
        object_name, content = await exports.export_content(connection, export_id)
    disposition = f'attachment; filename="{object_name}-{export_id}.csv"'
    return Response(
        content, media_type="text/csv; charset=utf-8", headers={"Content-Disposition": disposition}, status_code=200
    )


import_exception_handlers: dict[type[Exception] | int, Any] = {
    UploadTooLarge: answer_with(413),
    ImportRefused: answer_with(400),
    ImportNotFound: answer_with(404),
    ExportNotFound: answer_with(404),
    ExportNotReady: answer_with(409),
    UnknownObject: answer_with(404),
    QueryError: answer_with(400),
}
"""Also set on the routers themselves, so they answer the same wherever they are registered."""

IMPORT_ROUTES = Router(
    path="/api/v1/imports",
    route_handlers=[start_import, read_import],
    dependencies={"access": Provide(api_key_access)},
    exception_handlers=import_exception_handlers,
    tags=["imports"],
)

EXPORT_ROUTES = Router(
    path="/api/v1/exports",
    route_handlers=[start_export, read_export, download_export],
    dependencies={"access": Provide(api_key_access)},
    exception_handlers=import_exception_handlers,
    tags=["exports"],
)
