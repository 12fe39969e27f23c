"""Exports of the current list view as CSV (the engine's export jobs, app/crm/exports.py).

- ``POST /o/{object}/export``: the list page's plain form (filter, sort, view, columns) starts the job and answers
  303 to ``GET /exports/{id}``, whose status part (``/exports/{id}/status``) polls until the file is ready, then
  links to ``GET /exports/{id}/download`` (the CSV as an attachment, only the view's columns).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Stream, Template

from app.crm import exports
from app.crm.exports import ExportNotFound, ExportNotReady
from app.crm.metadata import ObjectDefinition
from app.crm.pages import import_store
from app.crm.pages.dashboard import Dashboard, toast
from app.crm.pages.import_wizard import (
    ExportRefused,
    export_file_name,
    kept_columns,
    project_csv,
    start_view_export,
)
from app.crm.pages.present import object_label
from app.crm.query import QueryError
from app.lib.i18n import gettext as _
from tasks.imports import EXPORT_JOB, JOB_OPTIONS

__all__ = ["EXPORT_PAGE_ROUTES"]


async def _enqueue(request: Request[Any, Any, Any], dashboard: Dashboard, export_id: str) -> None:
    await request.app.state.queue.enqueue(
        EXPORT_JOB, key=f"export:{export_id}", tenant_id=str(dashboard.tenant.id), export_id=export_id, **JOB_OPTIONS
    )


def _refused(request: HTMXRequest, reason: str) -> Response[Any]:
    detail = _("This view cannot be exported: %(reason)s") % {"reason": reason}
    if request.htmx:  # a toast shows the reason (static/js/app.js)
        return Response({"status_code": 400, "detail": detail}, status_code=400)
    raise HTTPException(status_code=400, detail=detail)


@post("/o/{object_name:str}/export", name="object-export")
async def object_export(
    request: HTMXRequest, dashboard: NamedDependency[Dashboard], object_name: FromPath[str]
) -> Response[Any]:
    obj = dashboard.object(object_name)
    form = await request.form()

    def text(name: str) -> str | None:
        """The field's value (repeated fields joined with commas); None when the form leaves it out."""
        values = form.getall(name, [])
        return ",".join(str(value) for value in values) if values else None

    try:
        job = await start_view_export(
            dashboard.connection, obj, filter_text=text("filter"), sort_text=text("sort"), view_id=text("view"),
            columns_text=text("columns"), viewer=dashboard.member.user_id,
            created_by=f"user:{dashboard.member.user_id}",
        )  # fmt: skip
    except QueryError as error:
        return _refused(request, error.reason)
    except ExportRefused as error:
        return _refused(request, str(error))
    await _enqueue(request, dashboard, job["id"])
    return Redirect(dashboard.url("exports", job["id"]), status_code=303)


async def _export(
    request: Request[Any, Any, Any], dashboard: Dashboard, export_id: uuid.UUID
) -> tuple[dict[str, Any], ObjectDefinition]:
    try:
        job = await exports.get_export(dashboard.connection, export_id)
    except ExportNotFound:
        raise NotFoundException("No such page.") from None
    if job["status"] == "pending":  # Redis may have lost the job: enqueue again (a no-op while it is queued)
        await _enqueue(request, dashboard, job["id"])
    return job, dashboard.object(job["object"])


async def _context(dashboard: Dashboard, job: dict[str, Any], obj: ObjectDefinition) -> dict[str, Any]:
    processed, total = job["progress"]["processed"], job["progress"]["total"]
    columns = await import_store.fetch_export_columns(dashboard.connection, uuid.UUID(job["id"]))
    return {
        "job": job,
        "obj": obj,
        "object_name": object_label(obj, dashboard.language),
        "columns": len(columns) if columns else None,
        "done": job["status"] in ("succeeded", "failed"),
        "percent": 100 if job["status"] == "succeeded" else (processed * 100 // total if total else 0),
    }


@get("/exports/{export_id:uuid}", name="export-progress", cache=False)
async def export_progress(
    request: Request[Any, Any, Any], dashboard: NamedDependency[Dashboard], export_id: FromPath[uuid.UUID]
) -> Template:
    job, obj = await _export(request, dashboard, export_id)
    return dashboard.page("crm/export_progress.html", **await _context(dashboard, job, obj))


@get("/exports/{export_id:uuid}/status", name="export-status", cache=False)
async def export_status(
    request: Request[Any, Any, Any], dashboard: NamedDependency[Dashboard], export_id: FromPath[uuid.UUID]
) -> Template:
    job, obj = await _export(request, dashboard, export_id)
    response = dashboard.page("crm/_export_status.html", **await _context(dashboard, job, obj))
    if job["status"] == "succeeded":
        toast(response, _("The export is ready to download."))
    elif job["status"] == "failed":
        toast(response, _("The export failed."), "error")
    return response


@get("/exports/{export_id:uuid}/download", name="export-download", cache=False)
async def export_download(dashboard: NamedDependency[Dashboard], export_id: FromPath[uuid.UUID]) -> Stream:
    try:
        job = await exports.get_export(dashboard.connection, export_id)
        object_name, content = await exports.export_content(dashboard.connection, export_id)
    except ExportNotFound:
        raise NotFoundException("No such page.") from None
    except ExportNotReady:
        raise HTTPException(status_code=409, detail=_("The export has not finished yet.")) from None
    obj = dashboard.object(object_name)
    keep = kept_columns(obj, await import_store.fetch_export_columns(dashboard.connection, export_id))
    name = export_file_name(obj, datetime.fromisoformat(job["created_at"]), dashboard.timezone)
    return Stream(
        project_csv(content, keep),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


EXPORT_PAGE_ROUTES: list[Any] = [object_export, export_progress, export_status, export_download]
