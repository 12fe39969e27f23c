"""The tenant's home page: "preparing your CRM" while it is being created, then the dashboard's home."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.di import NamedDependency, Provide
from litestar.response import Template

from app.accounts.access import TenantAccess, any_status_access
from app.crm.pages.dashboard import Dashboard, open_dashboard

__all__ = ["HOME_ROUTES"]


@get("/", name="tenant-home", cache=False, dependencies={"access": Provide(any_status_access)})
async def tenant_home(request: Request[Any, Any, Any], access: NamedDependency[TenantAccess]) -> Template:
    tenant = access.tenant
    if tenant.status in ("provisioning", "failed"):
        return Template("tenancy/preparing.html", context={"tenant": tenant, "member": access.member})
    if tenant.status != "active":
        return Template(
            "tenancy/unavailable.html", context={"tenant": tenant, "member": access.member}, status_code=403
        )
    dashboard = open_dashboard(request, access)
    try:
        board = await anext(dashboard)
        return await _home(board)
    finally:
        await dashboard.aclose()


async def _home(dashboard: Dashboard) -> Template:
    return dashboard.page("crm/home.html")


HOME_ROUTES: list[Any] = [tenant_home]
