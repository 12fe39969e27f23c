"""Errors as people and programs expect them: an HTML page for a browser, JSON under ``/api/``.

Unexpected errors are logged once with the request id and shown without internals.
"""

from __future__ import annotations

import uuid
from typing import Any

import structlog
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from app.lib.locale import locale_for
from app.lib.request_id import REQUEST_ID_HEADER

__all__ = ["answer_with", "exception_handlers", "wants_json"]

log = structlog.get_logger("wosool.errors")

_JSON_PREFIXES = ("/api/", "/webhooks/", "/widget/", "/oauth/")


def wants_json(request: Request[Any, Any, Any]) -> bool:
    if request.url.path.startswith(_JSON_PREFIXES):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _request_id(request: Request[Any, Any, Any]) -> str:
    """The request's id, set by the request-id middleware that wraps the app (`app.factory.WosoolApp`)."""
    state = request.scope.setdefault("state", {})
    return str(state.setdefault("request_id", uuid.uuid4().hex))


def _render(request: Request[Any, Any, Any], status_code: int, detail: str, body: dict[str, Any]) -> Response[Any]:
    request_id = _request_id(request)
    headers = {REQUEST_ID_HEADER: request_id}
    if wants_json(request):
        return Response(
            {**body, "request_id": request_id},
            status_code=status_code,
            media_type=MediaType.JSON,
            headers=headers,
        )
    engine = request.app.template_engine
    assert engine is not None
    html = engine.get_template("errors/error.html").render(
        request=request,
        locale=locale_for(request),
        status_code=status_code,
        detail=detail,
        request_id=request_id,
    )
    return Response(html, status_code=status_code, media_type=MediaType.HTML, headers=headers)


def handle_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    body: dict[str, Any] = {"status_code": exc.status_code, "detail": exc.detail}
    if exc.extra:
        body["extra"] = exc.extra
    response = _render(request, exc.status_code, exc.detail, body)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


def handle_unexpected_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.error("unhandled error", path=request.url.path, method=request.method, exc_info=exc)
    detail = "Something went wrong on our side. It has been logged; quote the request id if you contact support."
    body = {"status_code": HTTP_500_INTERNAL_SERVER_ERROR, "detail": detail}
    return _render(request, HTTP_500_INTERNAL_SERVER_ERROR, detail, body)


exception_handlers: dict[type[Exception] | int, Any] = {
    HTTPException: handle_http_exception,
    HTTP_500_INTERNAL_SERVER_ERROR: handle_unexpected_error,
}


def answer_with(status_code: int) -> Any:
    """An exception handler that answers a domain exception with ``status_code`` and the exception's message,
    as a page or as JSON like every other error."""

    def handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        extra = getattr(exc, "errors", None)
        return handle_http_exception(
            request, HTTPException(status_code=status_code, detail=str(exc) or type(exc).__name__, extra=extra)
        )

    return handler
