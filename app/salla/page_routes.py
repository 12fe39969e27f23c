"""The merchant's "Salla" page in the dashboard: ``/t/{slug}/salla`` (and its sync-now button)."""

from __future__ import annotations

from litestar import Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.response import Template

from app.accounts.access import tenant_access
from app.crm.pages.dashboard import Dashboard, open_dashboard, toast
from app.crm.pages.settings_common import require_manager
from app.lib.i18n import gettext
from app.salla import overview

__all__ = ["SALLA_PAGE"]


@get("/salla", name="salla", cache=False)
async def salla_page(dashboard: NamedDependency[Dashboard]) -> Template:
    """The whole page; htmx polls the sync part of it (``HX-Target: salla-sync``) while a sync runs."""
    store_overview = await overview.overview_of(dashboard.tenant.id)
    if dashboard.request.headers.get("hx-target") == "salla-sync":
        return dashboard.page("salla/_sync.html", overview=store_overview)
    return dashboard.page("salla/page.html", overview=store_overview)


@get("/salla/card", name="salla-card", cache=False)
async def home_card(dashboard: NamedDependency[Dashboard]) -> Template:
    """The home page's Salla card (loaded after the page)."""
    store_overview = await overview.overview_of(dashboard.tenant.id, with_webhooks=False)
    return dashboard.page("salla/_home_card.html", overview=store_overview)


@post("/salla/sync", name="salla-sync-now")
async def sync_now(dashboard: NamedDependency[Dashboard]) -> Template:
    require_manager(dashboard)
    try:
        await overview.sync_now(dashboard.tenant.id, dashboard.request.app.state.queue)
    except overview.NotConnected:
        response = dashboard.page("salla/_sync.html", overview=await overview.overview_of(dashboard.tenant.id))
        response.status_code = 409
        return toast(response, gettext("Connect your Salla store again before syncing."), "error")  # type: ignore[return-value]
    response = dashboard.page("salla/_sync.html", overview=await overview.overview_of(dashboard.tenant.id))
    return toast(response, gettext("The sync has started."))  # type: ignore[return-value]


SALLA_PAGE = Router(
    path="/t/{slug:str}",
    route_handlers=[salla_page, home_card, sync_now],
    dependencies={"access": Provide(tenant_access), "dashboard": Provide(open_dashboard)},
    include_in_schema=False,
)
