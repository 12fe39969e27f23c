"""Give every HTTP request an id and one log line.

The id is taken from a sane ``X-Request-ID`` header or made up, bound to every log line written while the request
runs, and returned in the response header. When the response has been sent, one ``request`` line says what was
asked and how it ended: method, path, status and milliseconds (never headers, query strings or bodies: they may
carry session cookies, API keys and webhook secrets).
"""

from __future__ import annotations

import re
import time
import uuid

import structlog
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["NOT_LOGGED", "REQUEST_ID_HEADER", "request_id_middleware"]

REQUEST_ID_HEADER = "x-request-id"
NOT_LOGGED = re.compile(r"^/api/health$|^/static/")
"""Paths answered without a log line: the load balancer's probe and static files."""
_SANE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
log = structlog.get_logger("wosool.requests")


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        began = time.perf_counter()
        incoming = next(
            (value.decode("latin-1") for name, value in scope["headers"] if name == REQUEST_ID_HEADER.encode()),
            "",
        )
        request_id = incoming if _SANE_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500  # what the client gets if nothing is sent (the server answers for us)

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableScopeHeaders.from_message(message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await app(scope, receive, send_with_id)
            finally:
                path = scope["path"]
                if not NOT_LOGGED.match(path):
                    log.info(
                        "request",
                        method=scope["method"],
                        path=path,
                        status_code=status,
                        duration_ms=round((time.perf_counter() - began) * 1000, 1),
                    )

    return middleware
