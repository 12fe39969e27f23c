"""The merchant dashboard: server-rendered pages under ``/t/{slug}/`` (HTMX for in-page changes).

Each module serves one area and exports its route handlers; they all share the access check and the
`Dashboard` dependency (app/crm/pages/dashboard.py).
"""

from __future__ import annotations

from litestar import Router
from litestar.di import Provide

from app.accounts.access import tenant_access
from app.crm.pages.dashboard import open_dashboard
from app.crm.pages.home import HOME_ROUTES
from app.crm.pages.imports import IMPORT_PAGE_ROUTES
from app.crm.pages.kanban import KANBAN_ROUTES
from app.crm.pages.lists import LIST_ROUTES
from app.crm.pages.palette import PALETTE_ROUTES
from app.crm.pages.records import RECORD_PAGE_ROUTES
from app.crm.pages.settings import SETTINGS_ROUTES

__all__ = ["DASHBOARD"]

DASHBOARD = Router(
    path="/t/{slug:str}",
    route_handlers=[
        *HOME_ROUTES,
        *SETTINGS_ROUTES,
        *IMPORT_PAGE_ROUTES,
        *PALETTE_ROUTES,
        *KANBAN_ROUTES,
        *RECORD_PAGE_ROUTES,
        *LIST_ROUTES,
    ],
    dependencies={"access": Provide(tenant_access), "dashboard": Provide(open_dashboard)},
    include_in_schema=False,
)
