"""The little HTTP the sandbox needs: a parsed request, a response, and Salla's JSON envelopes.

The sandbox is a raw ASGI app rather than a Litestar one: it must answer byte for byte what Salla answers (its
envelopes, its 401/404/429 bodies, rate-limit headers on every response, redirects with hyphen-stripped state),
and stay cheap enough to serve a benchmark's tens of thousands of requests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

__all__ = ["Request", "Response", "error", "json_response", "oauth_error", "success"]

_REASONS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    422: "validation_failed",
    429: "too_many_requests",
    500: "server_error",
    502: "bad_gateway",
    503: "service_unavailable",
}


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    """The path below the sandbox's mount point (``/oauth2/token``, ``/customers/12``)."""
    query: dict[str, str]
    """First value of each query parameter."""
    headers: dict[str, str]
    """Lower-cased names."""
    body: bytes = b""
    root: str = ""
    """The absolute URL the path is relative to (``http://127.0.0.1:8123/admin/v2``): pagination links use it."""

    @classmethod
    def build(
        cls,
        method: str,
        path: str,
        query_string: bytes,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
        *,
        root: str = "",
    ) -> Request:
        query: dict[str, str] = {}
        for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
            query.setdefault(name, value)
        return cls(
            method=method.upper(),
            path=path,
            query=query,
            headers={name.decode("latin-1").lower(): value.decode("latin-1") for name, value in headers},
            body=body,
            root=root,
        )

    def bearer_token(self) -> str:
        scheme, _, token = self.headers.get("authorization", "").partition(" ")
        return token.strip() if scheme.lower() == "bearer" else ""

    def form(self) -> dict[str, str] | None:
        """The form-urlencoded body, or None when the body is not a form (Salla's token endpoint wants one)."""
        content_type = self.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            return None
        fields: dict[str, str] = {}
        for name, value in parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True):
            fields.setdefault(name, value)
        return fields

    def json(self) -> Any:
        """The JSON body; raises ValueError when it is not JSON."""
        return json.loads(self.body or b"null")


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        found = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in self.headers.items()]
        found.append((b"content-length", str(len(self.body)).encode()))
        return found

    def json(self) -> Any:
        return json.loads(self.body)


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(status, body, {"Content-Type": "application/json"} | (headers or {}))


def success(data: Any, *, status: int = 200, pagination: dict[str, Any] | None = None) -> Response:
    payload: dict[str, Any] = {"status": status, "success": True, "data": data}
    if pagination is not None:
        payload["pagination"] = pagination
    return json_response(status, payload)


def error(
    status: int, message: str, *, code: str | None = None, fields: dict[str, list[str]] | None = None
) -> Response:
    """Salla's error envelope ``{status, success: false, error: {code, message, fields?}}``."""
    detail: dict[str, Any] = {"code": code or _REASONS.get(status, "error"), "message": message}
    if fields:
        detail["fields"] = fields
    return json_response(status, {"status": status, "success": False, "error": detail})


def oauth_error(status: int, code: str, description: str) -> Response:
    """The OAuth server's bare shape ``{error, error_description}`` (not Salla's envelope)."""
    return json_response(status, {"error": code, "error_description": description})
