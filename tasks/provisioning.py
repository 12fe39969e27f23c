"""Jobs that create and retire tenants; the rules live in app.tenancy."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import structlog

from app.tenancy import provisioning, repository, services
from tasks.context import JobContext

__all__ = ["provision_tenant", "sweep_tenants"]

log = structlog.get_logger("wosool.tasks.provisioning")
STUCK_AFTER = timedelta(seconds=30)


async def provision_tenant(ctx: JobContext, *, tenant_id: str) -> None:
    """Transient errors raise (SAQ retries with backoff) until the last attempt; anything else, or the last
    attempt, leaves the tenant ``failed`` with the reason, retryable with `wosool tenants provision`."""
    facts = ctx["wosool"]
    job = ctx["job"]
    try:
        await provisioning.provision(uuid.UUID(tenant_id), facts["settings"], facts["redis"])
    except provisioning.TRANSIENT_ERRORS as error:
        if job.attempts < job.retries:
            log.warning("provisioning will retry", tenant_id=tenant_id, attempt=job.attempts, error=str(error))
            raise
        await provisioning.mark_failed(
            uuid.UUID(tenant_id), f"gave up after {job.attempts} attempts: {error}", facts["redis"]
        )
    except Exception as error:
        log.exception("provisioning failed", tenant_id=tenant_id)
        await provisioning.mark_failed(uuid.UUID(tenant_id), f"{type(error).__name__}: {error}", facts["redis"])


async def sweep_tenants(ctx: JobContext) -> None:
    """Every minute: re-enqueue provisioning that Redis lost (PostgreSQL is the source of truth), and drop
    tenants whose retention period has ended."""
    facts = ctx["wosool"]
    queue = ctx["worker"].queue
    stuck_before = datetime.now(UTC) - STUCK_AFTER
    for tenant in await repository.list_tenants(statuses=("provisioning",)):
        if tenant.created_at < stuck_before:
            await services.request_provisioning(queue, tenant.id)
    purged = await services.purge_due_tenants(facts["redis"], facts["settings"])
    if purged:
        log.info("deleted tenants after their retention period", slugs=purged)
