"""The CSV import wizard and its progress page (exports of a list view: import_exports.py).

- ``GET /import`` (step 1): choose the object and a CSV file; ``POST /import`` stores the upload as a draft in the
  tenant's database (``import_drafts``) and moves on to
- ``GET|POST /import/{draft}`` (step 2): each column -> a field (or skip), the mode and duplicate handling;
- ``GET /import/{draft}/preview`` (step 3): the first rows as they will be stored, failing rows with the reasons;
- ``POST /import/{draft}/run`` (step 4): creates the import job with the engine's `create_import` (as the API does),
  enqueues it and goes to ``GET /imports/{id}``, whose status part (``/imports/{id}/status``) polls twice a second
  until the job has finished, then shows the counts and the per-row report.

Every step is a page of its own (GET after each POST), so back/forward and deep links work. A form re-rendered with
its problem answers 422 (htmx swaps it in, keeping the choices made).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

import asyncpg
from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, MultipartBody, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template

from app.crm import imports
from app.crm.imports import ImportRefused
from app.crm.metadata import ObjectDefinition
from app.crm.pages import import_store
from app.crm.pages.dashboard import Dashboard, toast
from app.crm.pages.import_exports import EXPORT_PAGE_ROUTES
from app.crm.pages.import_wizard import guess_mapping, preview_lines, reason_in, target_choices
from app.crm.pages.present import field_label, object_label
from app.lib.i18n import gettext as _
from tasks.imports import IMPORT_JOB, JOB_OPTIONS

__all__ = ["IMPORT_PAGE_ROUTES"]

PREVIEW_ROWS = 20
_FORM_SLACK = 1024 * 1024
"""Room for the multipart envelope and the other form fields beside the file (as the API allows)."""
_NOT_CSV = {
    b"PK\x03\x04": "xlsx",
    b"\xd0\xcf\x11\xe0": "xls",
    b"%PDF": "pdf",
    b"\x89PNG": "image",
    b"\xff\xd8\xff": "image",
    b"GIF8": "image",
}


@dataclass
class UploadForm:
    file: UploadFile | None = None
    object: str = ""


def _creator(dashboard: Dashboard) -> str:
    return f"user:{dashboard.member.user_id}"


def _importable(dashboard: Dashboard) -> list[ObjectDefinition]:
    return dashboard.sidebar_objects()


def _steps(dashboard: Dashboard, current: int, draft: asyncpg.Record | None = None) -> list[dict[str, Any]]:
    """The wizard's four steps, with links to those already reachable."""
    links: list[str | None] = [dashboard.url("import"), None, None, None]
    if draft is not None:
        links[0] = dashboard.url("import") + f"?object={draft['object_name']}"
        links[1] = dashboard.url("import", draft["id"])
        if draft["mapping"] is not None:
            links[2] = dashboard.url("import", draft["id"], "preview")
        if draft["import_id"] is not None:
            links[3] = dashboard.url("imports", draft["import_id"])
    names = [_("Upload"), _("Map columns"), _("Preview"), _("Import")]
    return [
        {"number": number, "name": name, "href": links[number - 1], "current": number == current}
        for number, name in enumerate(names, start=1)
    ]


# --- step 1 -------------------------------------------------------------------------------------------------------


async def _start_page(
    dashboard: Dashboard, *, chosen: str = "", error: str | None = None, status_code: int = 200
) -> Template:
    recent = await import_store.recent_imports(dashboard.connection)
    labels = {obj.name: object_label(obj, dashboard.language) for obj in dashboard.catalogue.objects.values()}
    return dashboard.page(
        "crm/import_start.html",
        status_code=status_code,
        objects=_importable(dashboard),
        chosen=chosen,
        error=error,
        recent=recent,
        labels=labels,
        steps=_steps(dashboard, 1),
        max_bytes=imports.MAX_UPLOAD_BYTES,
        max_mb=imports.MAX_UPLOAD_BYTES // (1024 * 1024),
    )


@get("/import", name="import-start", cache=False)
async def import_start(
    dashboard: NamedDependency[Dashboard], object_name: Annotated[str, QueryParameter(name="object")] = ""
) -> Template:
    return await _start_page(dashboard, chosen=object_name)


def _not_csv(file_name: str, content: bytes) -> str | None:
    """A clearer reason than "not UTF-8" for the files people upload by mistake."""
    kind = next((kind for magic, kind in _NOT_CSV.items() if content.startswith(magic)), None)
    if kind in ("xlsx", "xls") or file_name.lower().endswith((".xlsx", ".xls")):
        return _("This is an Excel workbook. In Excel choose File › Save As › “CSV UTF-8”, then upload that file.")
    if kind is not None:
        return _("This file is not a CSV file. Upload a spreadsheet saved as “CSV UTF-8”.")
    return None


@post(
    "/import",
    name="import-upload",
    request_max_body_size=imports.MAX_UPLOAD_BYTES + _FORM_SLACK,
)
async def import_upload(dashboard: NamedDependency[Dashboard], data: MultipartBody[UploadForm]) -> Template | Redirect:
    obj = next((item for item in _importable(dashboard) if item.name == data.object), None)
    if obj is None:
        return await _start_page(dashboard, chosen=data.object, error=_("Choose what the file holds."), status_code=422)
    upload = data.file if isinstance(data.file, UploadFile) else None
    content = await upload.read() if upload is not None else b""
    file_name = (upload.filename if upload is not None else "") or ""
    if not file_name and not content:
        return await _start_page(dashboard, chosen=obj.name, error=_("Choose a CSV file to upload."), status_code=422)
    problem = _not_csv(file_name, content)
    if problem is None:
        try:
            outline = imports.outline_csv(content)
        except ImportRefused as error:
            problem = reason_in(str(error), dashboard.language)
    if problem is not None:
        return await _start_page(dashboard, chosen=obj.name, error=problem, status_code=422)
    draft_id = await import_store.insert_draft(
        dashboard.connection, object_name=obj.name, file_name=file_name, content=content, header=outline.header,
        samples=outline.samples, total_rows=outline.total_rows, created_by=_creator(dashboard),
    )  # fmt: skip
    return Redirect(dashboard.url("import", draft_id), status_code=303)


# --- step 2 -------------------------------------------------------------------------------------------------------


async def _draft(dashboard: Dashboard, draft_id: uuid.UUID) -> tuple[asyncpg.Record, ObjectDefinition]:
    draft = await import_store.fetch_draft(dashboard.connection, draft_id, _creator(dashboard))
    if draft is None:
        raise NotFoundException("No such page.")
    return draft, dashboard.object(draft["object_name"])


def _map_page(
    dashboard: Dashboard,
    draft: asyncpg.Record,
    obj: ObjectDefinition,
    *,
    mapping: dict[str, str | None],
    mode: str,
    dedupe_field: str | None,
    error: str | None = None,
    status_code: int = 200,
) -> Template:
    header: list[str] = draft["header"]
    samples = [
        [row[index] for row in draft["samples"] if index < len(row) and row[index].strip()]
        for index in range(len(header))
    ]
    return dashboard.page(
        "crm/import_map.html",
        status_code=status_code,
        draft=draft,
        obj=obj,
        object_name=object_label(obj, dashboard.language),
        header=header,
        samples=samples,
        choices=target_choices(obj, dashboard.language),
        mapping=mapping,
        mode=mode,
        dedupe_field=dedupe_field,
        dedupe_choices=[(item.name, field_label(item, dashboard.language)) for item in imports.dedupe_fields(obj)],
        error=error,
        steps=_steps(dashboard, 2, draft),
    )


@get("/import/{draft_id:uuid}", name="import-map", cache=False)
async def import_map(dashboard: NamedDependency[Dashboard], draft_id: FromPath[uuid.UUID]) -> Template:
    draft, obj = await _draft(dashboard, draft_id)
    mapping = draft["mapping"] if draft["mapping"] is not None else guess_mapping(obj, draft["header"])
    return _map_page(dashboard, draft, obj, mapping=mapping, mode=draft["mode"], dedupe_field=draft["dedupe_field"])


@post("/import/{draft_id:uuid}", name="import-map-save")
async def import_map_save(
    dashboard: NamedDependency[Dashboard], draft_id: FromPath[uuid.UUID], data: URLEncodedBody[dict[str, str]]
) -> Template | Redirect:
    draft, obj = await _draft(dashboard, draft_id)
    header: list[str] = draft["header"]
    mapping = {column: (data.get(f"column-{index}") or None) for index, column in enumerate(header)}
    mode = data.get("mode", "all_or_nothing")
    dedupe_field = data.get("dedupe_field") or None
    try:
        imports.check_plan(obj, header, mapping, mode, dedupe_field)
    except ImportRefused as error:
        return _map_page(
            dashboard, draft, obj, mapping=mapping, mode=mode, dedupe_field=dedupe_field,
            error=reason_in(str(error), dashboard.language), status_code=422,
        )  # fmt: skip
    await import_store.save_draft_choices(
        dashboard.connection, draft_id, mapping=mapping, mode=mode, dedupe_field=dedupe_field
    )
    return Redirect(dashboard.url("import", draft_id, "preview"), status_code=303)


# --- step 3 -------------------------------------------------------------------------------------------------------


@get("/import/{draft_id:uuid}/preview", name="import-preview", cache=False)
async def import_preview(dashboard: NamedDependency[Dashboard], draft_id: FromPath[uuid.UUID]) -> Template | Redirect:
    draft, obj = await _draft(dashboard, draft_id)
    if draft["mapping"] is None:
        return Redirect(dashboard.url("import", draft_id), status_code=303)
    content = await import_store.fetch_draft_file(dashboard.connection, draft_id)
    try:
        columns = imports.check_plan(obj, draft["header"], draft["mapping"], draft["mode"], draft["dedupe_field"])
        rows = await imports.preview_import(
            dashboard.connection, obj, content, mapping=draft["mapping"], dedupe_field=draft["dedupe_field"],
            limit=PREVIEW_ROWS,
        )  # fmt: skip
    except ImportRefused as error:  # the object's fields changed since the mapping was chosen
        return _map_page(
            dashboard, draft, obj, mapping=draft["mapping"], mode=draft["mode"], dedupe_field=draft["dedupe_field"],
            error=reason_in(str(error), dashboard.language), status_code=422,
        )  # fmt: skip
    fields, lines = await preview_lines(
        dashboard.connection, dashboard.catalogue, obj, columns, rows, dashboard.language
    )
    dedupe = obj.field(draft["dedupe_field"]) if draft["dedupe_field"] else None
    return dashboard.page(
        "crm/import_preview.html",
        draft=draft,
        obj=obj,
        object_name=object_label(obj, dashboard.language),
        total_rows=draft["total_rows"],
        fields=[(item.name, field_label(item, dashboard.language)) for item in fields],
        lines=lines,
        failing=sum(1 for line in lines if line.action == "fail"),
        dedupe_label=field_label(dedupe, dashboard.language) if dedupe else None,
        steps=_steps(dashboard, 3, draft),
    )


# --- step 4 -------------------------------------------------------------------------------------------------------


class _AlreadyRun(Exception):
    pass


async def _enqueue(request: Request[Any, Any, Any], dashboard: Dashboard, import_id: str) -> None:
    await request.app.state.queue.enqueue(
        IMPORT_JOB, key=f"import:{import_id}", tenant_id=str(dashboard.tenant.id), import_id=import_id, **JOB_OPTIONS
    )


@post("/import/{draft_id:uuid}/run", name="import-run")
async def import_run(
    request: Request[Any, Any, Any], dashboard: NamedDependency[Dashboard], draft_id: FromPath[uuid.UUID]
) -> Template | Redirect:
    draft, obj = await _draft(dashboard, draft_id)
    if draft["import_id"] is not None:
        return Redirect(dashboard.url("imports", draft["import_id"]), status_code=303)
    if draft["mapping"] is None:
        return Redirect(dashboard.url("import", draft_id), status_code=303)
    try:
        async with dashboard.connection.transaction():
            content = await import_store.fetch_draft_file(dashboard.connection, draft_id)
            job = await imports.create_import(
                dashboard.connection, obj, content=content, file_name=draft["file_name"],
                mode=draft["mode"], dedupe_field=draft["dedupe_field"], mapping=draft["mapping"],
                created_by=_creator(dashboard),
            )  # fmt: skip
            if not await import_store.mark_draft_run(dashboard.connection, draft_id, uuid.UUID(job["id"])):
                raise _AlreadyRun
    except _AlreadyRun:  # pressed twice: the first press made the import
        draft, _obj = await _draft(dashboard, draft_id)
        return Redirect(dashboard.url("imports", draft["import_id"]), status_code=303)
    except ImportRefused as error:
        return _map_page(
            dashboard, draft, obj, mapping=draft["mapping"], mode=draft["mode"], dedupe_field=draft["dedupe_field"],
            error=reason_in(str(error), dashboard.language), status_code=422,
        )  # fmt: skip
    await _enqueue(request, dashboard, job["id"])
    return Redirect(dashboard.url("imports", job["id"]), status_code=303)


# --- progress -----------------------------------------------------------------------------------------------------


async def _progress(
    request: Request[Any, Any, Any], dashboard: Dashboard, import_id: uuid.UUID
) -> tuple[dict[str, Any], ObjectDefinition]:
    row = await import_store.fetch_import_status(dashboard.connection, import_id)
    if row is None:
        raise NotFoundException("No such page.")
    job = imports.import_to_api(row)
    if job["status"] == "pending":  # Redis may have lost the job: enqueue again (a no-op while it is queued)
        await _enqueue(request, dashboard, job["id"])
    return job, dashboard.object(job["object"])


def _status_context(dashboard: Dashboard, job: dict[str, Any], obj: ObjectDefinition) -> dict[str, Any]:
    labels = {item.name: field_label(item, dashboard.language) for item in obj.fields}
    report = [
        {"row": entry["row"], "field": labels.get(name, name), "reason": reason_in(reason, dashboard.language)}
        for entry in job["report"]
        for name, reason in entry["errors"].items()
    ]
    processed, total = job["progress"]["processed"], job["progress"]["total"]
    return {
        "job": job,
        "obj": obj,
        "object_name": object_label(obj, dashboard.language),
        "done": job["status"] in ("succeeded", "failed"),
        "percent": 100 if job["status"] == "succeeded" else (processed * 100 // total if total else 0),
        "report": report,
        "report_capped": job["counts"]["failed"] > len(job["report"]),
        "error": reason_in(job["error"], dashboard.language) if job["error"] else None,
    }


@get("/imports/{import_id:uuid}", name="import-progress", cache=False)
async def import_progress(
    request: Request[Any, Any, Any], dashboard: NamedDependency[Dashboard], import_id: FromPath[uuid.UUID]
) -> Template:
    job, obj = await _progress(request, dashboard, import_id)
    return dashboard.page(
        "crm/import_progress.html", steps=_steps(dashboard, 4), **_status_context(dashboard, job, obj)
    )


@get("/imports/{import_id:uuid}/status", name="import-status", cache=False)
async def import_status(
    request: Request[Any, Any, Any], dashboard: NamedDependency[Dashboard], import_id: FromPath[uuid.UUID]
) -> Template:
    job, obj = await _progress(request, dashboard, import_id)
    context = _status_context(dashboard, job, obj)
    response = dashboard.page("crm/_import_status.html", **context)
    if context["done"]:
        if job["status"] == "succeeded":
            toast(response, _("The import has finished."))
        else:
            toast(response, _("The import failed; nothing was imported."), "error")
    return response


IMPORT_PAGE_ROUTES: list[Any] = [
    import_start,
    import_upload,
    import_map,
    import_map_save,
    import_preview,
    import_run,
    import_progress,
    import_status,
    *EXPORT_PAGE_ROUTES,
]
