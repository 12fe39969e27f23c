"""Tenant pages that are not the CRM itself: the tenant's home, the "preparing your CRM" page, status."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Template

from app.accounts.access import ApiAccess, TenantAccess, any_status_access, api_key_access
from app.tenancy import services as tenancy

__all__ = ["api_workspace", "tenant_preparing_status", "tenant_status"]

_STOP_POLLING = 286
"""htmx stops an `every` trigger when the answer has this status."""


@get(
    "/t/{slug:str}/preparing/status",
    name="tenant-preparing-status",
    include_in_schema=False,
    cache=False,
    dependencies={"access": Provide(any_status_access)},
)
async def tenant_preparing_status(access: NamedDependency[TenantAccess]) -> Template | ClientRedirect:
    """Polled by the preparing page; sends the browser on once the tenant is ready."""
    if access.tenant.status == "active":
        redirect = ClientRedirect(f"/t/{access.tenant.slug}/")
        redirect.status_code = _STOP_POLLING  # no poll can start (and be cut off) while the browser leaves
        return redirect
    return Template("tenancy/_preparing_status.html", context={"tenant": access.tenant})


@get("/api/tenants/{slug:str}/status", name="tenant-status", tags=["tenants"], cache=False)
async def tenant_status(request: Request[Any, Any, Any], slug: FromPath[str]) -> Response[dict[str, str]]:
    """Provisioning status of a tenant created by `POST /api/auth/register-organization`."""
    tenant = await tenancy.find_tenant(request.app.state.redis, slug)
    if tenant is None or tenant.status == "deleted":
        raise NotFoundException(f"There is no tenant '{slug}'.")
    return Response({"slug": tenant.slug, "status": tenant.status})


@get(
    "/api/v1/workspace",
    name="api-workspace",
    tags=["workspace"],
    summary="The organization this API key belongs to",
    cache=False,
    dependencies={"access": Provide(api_key_access)},
)
async def api_workspace(request: Request[Any, Any, Any], access: NamedDependency[ApiAccess]) -> dict[str, Any]:
    """Read from the tenant's own database (as the tenant's role): a cheap way to check a key works."""
    workspace = await tenancy.workspace_summary(access.tenant, request.app.state.settings)
    return {
        "slug": access.tenant.slug,
        "name": workspace.get("name", access.tenant.name),
        "default_locale": workspace.get("default_locale"),
        "default_currency": workspace.get("default_currency"),
        "timezone": workspace.get("timezone"),
        "api_key": {"name": access.key.name, "prefix": access.key.prefix},
    }
