"""Jobs that import and export CSV files; the rules live in app.crm.imports and app.crm.exports.

Both are idempotent: the job row in the tenant database is the source of truth, a re-run of a succeeded job does
nothing and a re-run of a failed or interrupted one starts over (an interrupted import rolled back as a whole).
Each holds two connections of the tenant's pool: one for the work, one for progress readable while it runs.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import asyncpg
import structlog

from app.crm import exports, imports
from app.crm.metadata import ObjectDefinition
from app.crm.services import crm_connection, object_of
from app.settings import Settings
from app.tenancy.repository import TenantRecord
from app.tenancy.services import tenant_by_id
from tasks.context import JobContext

__all__ = [
    "EXPORT_JOB",
    "IMPORT_JOB",
    "JOB_OPTIONS",
    "TRANSIENT_ERRORS",
    "run_export",
    "run_import",
]

log = structlog.get_logger("wosool.tasks.imports")

IMPORT_JOB = "run_import"
EXPORT_JOB = "run_export"
JOB_OPTIONS = {"timeout": 1800, "retries": 3, "retry_delay": 5.0, "retry_backoff": 60.0}
"""What both jobs are enqueued with: 100k rows take seconds, half an hour is the ceiling; three attempts."""
TRANSIENT_ERRORS = (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError, TimeoutError)

_Work = Callable[[asyncpg.Connection, asyncpg.Connection, ObjectDefinition, uuid.UUID], Awaitable[object]]
_Fail = Callable[[asyncpg.Connection, uuid.UUID, str], Awaitable[None]]


async def run_import(ctx: JobContext, *, tenant_id: str, import_id: str) -> None:
    await _run(ctx, tenant_id, import_id, "import_jobs", imports.run_import, imports.fail_import)


async def run_export(ctx: JobContext, *, tenant_id: str, export_id: str) -> None:
    await _run(ctx, tenant_id, export_id, "export_jobs", exports.run_export, exports.fail_export)


async def _run(ctx: JobContext, tenant_id: str, job_id: str, table: str, work: _Work, fail: _Fail) -> None:
    """Transient errors raise (SAQ retries) until the last attempt; anything else marks the job failed."""
    settings = ctx["wosool"]["settings"]
    job = ctx["job"]
    tenant = await tenant_by_id(uuid.UUID(tenant_id))
    if tenant is None or tenant.status != "active":
        log.warning("job for a missing or inactive tenant", tenant_id=tenant_id, job_id=job_id, table=table)
        return
    try:
        await _work(tenant_id, job_id, table, work, settings, tenant)
    except TRANSIENT_ERRORS as error:
        if job.attempts < job.retries:
            log.warning("job will retry", table=table, job_id=job_id, attempt=job.attempts, error=str(error))
            raise
        await _mark_failed(tenant, settings, job_id, fail, f"gave up after {job.attempts} attempts: {error}")
    except Exception as error:
        log.exception("job failed", table=table, job_id=job_id)
        await _mark_failed(tenant, settings, job_id, fail, f"{type(error).__name__}: {error}")


async def _work(tenant_id: str, job_id: str, table: str, work: _Work, settings: Settings, tenant: TenantRecord) -> None:
    async with crm_connection(tenant, settings) as connection, crm_connection(tenant, settings) as progress:
        object_name = await connection.fetchval(
            f"SELECT object_name FROM {table} WHERE id = $1",  # noqa: S608 (a constant table name)
            uuid.UUID(job_id),
        )
        if object_name is None:
            log.warning("job row not found", table=table, job_id=job_id, tenant_id=tenant_id)
            return
        obj = await object_of(connection, tenant, object_name)
        await work(connection, progress, obj, uuid.UUID(job_id))


async def _mark_failed(tenant: TenantRecord, settings: Settings, job_id: str, fail: _Fail, reason: str) -> None:
    async with crm_connection(tenant, settings) as connection:
        await fail(connection, uuid.UUID(job_id), reason)
