"""Probes: ``/api/health`` (liveness) and ``/api/ready`` (dependencies)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.datastructures import State
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from app.ops.services import check_readiness
from app.settings import Settings

__all__ = ["ProbesController"]


class ProbesController(Controller):
    path = "/api"
    tags = ["probes"]

    @get("/health", summary="Liveness: the process answers", cache=False)
    async def health(self) -> dict[str, str]:
        return {"status": "ok"}

    @get("/ready", summary="Readiness: registry database, Redis and a recent worker heartbeat", cache=False)
    async def ready(self, request: Request[Any, Any, State]) -> Response[dict[str, Any]]:
        settings: Settings = request.app.state.settings
        readiness = await check_readiness(request.app.state.redis, heartbeat_max_age=settings.heartbeat_max_age_seconds)
        body = {
            "status": "ready" if readiness.ok else "unavailable",
            "failing": readiness.failing,
            "checks": {
                name: {"ok": check.ok, "latency_ms": check.latency_ms, "detail": check.detail, **check.extra}
                for name, check in readiness.checks.items()
            },
        }
        return Response(body, status_code=HTTP_200_OK if readiness.ok else HTTP_503_SERVICE_UNAVAILABLE)
