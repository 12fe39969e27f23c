"""Tenants by host name: ``{slug}.{BASE_DOMAIN}/path`` is served as ``/t/{slug}/path``.

The rewrite happens before routing, so every tenant route exists once, under ``/t/{slug}``, and the same
membership check guards both spellings.
"""

from __future__ import annotations

from litestar.types import Scope

__all__ = ["rewrite_tenant_host"]

# Paths that mean the same on every host (the platform's own pages and endpoints).
_SHARED_PREFIXES = (
    "/t/", "/static/", "/api/", "/webhooks/", "/widget/", "/oauth/", "/metrics", "/login", "/logout",
    "/signup", "/account", "/language/", "/schema",
)  # fmt: skip


def rewrite_tenant_host(scope: Scope, base_domain: str) -> None:
    host = _host(scope)
    suffix = "." + base_domain
    if not host.endswith(suffix):
        return
    slug = host[: -len(suffix)]
    if not slug or "." in slug:
        return
    path: str = scope["path"]
    if path.startswith(_SHARED_PREFIXES):
        return
    new_path = f"/t/{slug}{path}"
    scope["path"] = new_path
    scope["raw_path"] = new_path.encode()


def _host(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"host":
            return value.decode("latin-1").rsplit(":", 1)[0].lower()
    return ""
