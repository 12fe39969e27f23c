"""The web application: ``create_app()`` builds a Litestar app from `Settings`."""

from __future__ import annotations

import contextlib
import gc
from typing import Any, cast

from litestar import Litestar, Request
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.enums import ScopeType
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin
from litestar.plugins.htmx import HTMXPlugin, HTMXRequest
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from litestar.plugins.structlog import StructlogPlugin
from litestar.static_files import create_static_files_router
from litestar.stores.redis import RedisStore
from litestar.stores.registry import StoreRegistry
from litestar.template.config import TemplateConfig
from litestar.types import ASGIApp, LifeSpanReceive, LifeSpanScope, LifeSpanSend, Receive, Scope, Send
from redis.asyncio import Redis
from redis.exceptions import RedisError

from app import __version__
from app.accounts.access import SESSION_EMAIL
from app.accounts.errors import access_exception_handlers
from app.accounts.routes import ACCOUNT_ROUTES
from app.crm.errors import crm_exception_handlers
from app.crm.import_routes import EXPORT_ROUTES, IMPORT_ROUTES
from app.crm.pages import DASHBOARD
from app.crm.routes import RECORD_ROUTES
from app.crm.schema_routes import METADATA_ROUTES
from app.crm.view_routes import VIEW_ROUTES
from app.lib import i18n
from app.lib.errors import exception_handlers
from app.lib.locale import SUPPORTED, locale_for
from app.lib.logging import structlog_config
from app.lib.remembered_sessions import remembered_sessions
from app.lib.request_id import request_id_middleware
from app.lib.sessions import LazySessionConfig
from app.ops.metrics import register_metrics
from app.ops.routes import ProbesController
from app.registry import database as registry
from app.registry.changes import access_notices
from app.salla.routes import SALLA_ROUTES
from app.settings import PROJECT_ROOT, Settings
from app.site.routes import landing_page, switch_language
from app.tenancy import runtime
from app.tenancy.hosts import rewrite_tenant_host
from app.tenancy.routes import api_workspace, tenant_preparing_status, tenant_status
from tasks.queue import create_queue

__all__ = ["create_app"]

SESSION_COOKIE = "wosool_session"
_YOUNG_COLLECTION_EVERY = 20_000
"""Allocations (net of frees) between two young-generation collections; Python's default is 700."""
# Paths that are not browser forms: they authenticate by signature, API key or public design.
CSRF_EXEMPT = ["^/api/", "^/webhooks/", "^/widget/", "^/oauth/", "^/metrics"]


class WosoolMetrics(PrometheusController):
    path = "/metrics"


class WosoolApp(Litestar):
    """Litestar, plus tenant host names (``acme.{BASE_DOMAIN}/x`` is routed as ``/t/acme/x``) and a request id and
    log line for every HTTP request: the request-id middleware wraps the whole app, so a path no route matches (which
    Litestar's own middleware never sees) gets them too."""

    base_domain = ""
    _entry: ASGIApp | None = None

    async def __call__(
        self, scope: Scope | LifeSpanScope, receive: Receive | LifeSpanReceive, send: Send | LifeSpanSend
    ) -> None:
        if self.base_domain and scope["type"] == ScopeType.HTTP:
            rewrite_tenant_host(cast("Scope", scope), self.base_domain)
        if self._entry is None:
            self._entry = request_id_middleware(super().__call__)
        await self._entry(scope, receive, send)  # type: ignore[arg-type]


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the web app. Without arguments the settings come from the environment."""
    settings = settings or Settings.from_env()
    register_metrics()
    registry.bind(settings.database_url)
    redis = Redis.from_url(settings.redis_url, socket_connect_timeout=2, socket_timeout=5)
    root_store = RedisStore(redis, namespace="wosool", handle_client_shutdown=False)
    queue = create_queue(settings)

    async def open_connections() -> None:
        await registry.open_pool()
        access_notices.start(settings.database_url)
        remembered_sessions.start(settings.redis_url)
        await runtime.open_pools(settings)
        await queue.connect()
        _settle_memory()

    async def close_connections() -> None:
        with contextlib.suppress(RedisError):  # Redis may be the reason we are shutting down
            await queue.disconnect()
        await runtime.close_pools()
        await access_notices.stop()
        await remembered_sessions.stop()
        await registry.close_pool()
        await redis.aclose()

    app = WosoolApp(
        route_handlers=[
            landing_page,
            switch_language,
            *ACCOUNT_ROUTES,
            tenant_preparing_status,
            tenant_status,
            api_workspace,
            VIEW_ROUTES,
            METADATA_ROUTES,
            IMPORT_ROUTES,
            EXPORT_ROUTES,
            RECORD_ROUTES,
            DASHBOARD,
            *SALLA_ROUTES,
            ProbesController,
            WosoolMetrics,
            create_static_files_router(
                path="/static", directories=[PROJECT_ROOT / "static"], name="static", include_in_schema=False
            ),
        ],
        state=State({"settings": settings, "redis": redis, "queue": queue}),
        on_startup=[open_connections],
        on_shutdown=[close_connections],
        middleware=[
            LazySessionConfig(
                key=SESSION_COOKIE,
                store="sessions",
                max_age=14 * 24 * 3600,
                secure=settings.is_production,
                samesite="lax",
                httponly=True,
            ).middleware,
            PrometheusConfig(app_name="wosool", prefix="wosool", group_path=True).middleware,
        ],
        plugins=[StructlogPlugin(structlog_config(settings)), HTMXPlugin()],
        request_class=HTMXRequest,
        template_config=TemplateConfig(
            directory=PROJECT_ROOT / "templates",
            engine=JinjaTemplateEngine,
            engine_callback=_template_globals,
        ),
        csrf_config=CSRFConfig(
            secret=settings.secret_key,
            cookie_secure=settings.is_production,
            cookie_samesite="lax",
            exclude=CSRF_EXEMPT,
        ),
        stores=StoreRegistry(
            stores={"sessions": root_store.with_namespace("sessions")},
            # Every other store (rate limits, caches) lives in Redis too, never in one process's memory.
            default_factory=root_store.with_namespace,
        ),
        openapi_config=OpenAPIConfig(
            title="Wosool API", version=__version__, path="/api/docs", render_plugins=[ScalarRenderPlugin()]
        ),
        exception_handlers={**exception_handlers, **access_exception_handlers, **crm_exception_handlers},
        debug=False,
    )
    app.base_domain = settings.base_domain
    return app


def _settle_memory() -> None:
    """Take what start-up made (modules, routes, settings: it lives as long as the process) out of the garbage
    collector's sight, so the collections that requests set off only walk what requests made; and set them off less
    often: a dashboard page makes tens of thousands of short-lived objects, and Python's default threshold (700
    allocations) ran a young collection dozens of times per page."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(_YOUNG_COLLECTION_EVERY, *gc.get_threshold()[1:])


def _template_globals(engine: JinjaTemplateEngine) -> None:
    # Templates only change with a release (or a restart in development): no stat() of every template file on
    # every render.
    engine.engine.auto_reload = False
    i18n.install(engine.engine)
    engine.engine.globals.update(
        locale_for=locale_for,
        languages=SUPPORTED,
        version=__version__,
        asset=_static_asset_url,
        signed_in_email=_signed_in_email,
    )


def _signed_in_email(request: Request[Any, Any, Any]) -> str:
    session = request.scope.get("session")
    return str(session.get(SESSION_EMAIL, "")) if isinstance(session, dict) else ""


def _static_asset_url(path: str) -> str:
    """``/static/<path>``; the version in the query makes browsers refetch our own files after a release."""
    return f"/static/{path}?v={__version__}"
