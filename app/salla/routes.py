"""Every route of the Salla domain, for the app factory."""

from __future__ import annotations

from app.salla.oauth_routes import OAUTH_ROUTES
from app.salla.page_routes import SALLA_PAGE
from app.salla.webhook_routes import WEBHOOK_ROUTES

__all__ = ["SALLA_ROUTES"]

SALLA_ROUTES = [*WEBHOOK_ROUTES, *OAUTH_ROUTES, SALLA_PAGE]
