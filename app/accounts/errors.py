"""How access problems look over HTTP: a sign-in redirect or 401, a "suspended" page or 403, and so on."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import MediaType, Request, Response
from litestar.response import Redirect

from app.accounts.access import NotSignedIn, TenantUnavailable
from app.accounts.services import Conflict, InvalidInput, NotAllowed
from app.lib.errors import answer_with, wants_json
from app.lib.locale import locale_for
from app.lib.ratelimit import RateLimited
from app.tenancy.pools import PoolBudgetTimeout
from app.tenancy.repository import NoServerAccepting

__all__ = ["access_exception_handlers"]


def _not_signed_in(request: Request[Any, Any, Any], exc: NotSignedIn) -> Response[Any]:
    if wants_json(request):
        return Response({"status_code": 401, "detail": "Sign in first."}, status_code=401)
    return Redirect(path=f"/login?next={quote(request.url.path)}")


def _tenant_unavailable(request: Request[Any, Any, Any], exc: TenantUnavailable) -> Response[Any]:
    tenant = exc.tenant
    if wants_json(request):
        return Response(
            {"status_code": 403, "detail": f"This organization is {tenant.status}.", "status": tenant.status},
            status_code=403,
        )
    if tenant.status in ("provisioning", "failed"):
        return Redirect(path=f"/t/{tenant.slug}/")  # the tenant's home shows the "preparing" page
    engine = request.app.template_engine
    assert engine is not None
    html = engine.get_template("tenancy/unavailable.html").render(
        request=request, locale=locale_for(request), tenant=tenant
    )
    return Response(html, status_code=403, media_type=MediaType.HTML)


def _rate_limited(request: Request[Any, Any, Any], exc: RateLimited) -> Response[Any]:
    response: Response[Any] = answer_with(429)(request, exc)
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


access_exception_handlers: dict[type[Exception] | int, Any] = {
    NotSignedIn: _not_signed_in,
    TenantUnavailable: _tenant_unavailable,
    NotAllowed: answer_with(403),
    InvalidInput: answer_with(400),
    Conflict: answer_with(409),
    RateLimited: _rate_limited,
    PoolBudgetTimeout: answer_with(503),
    NoServerAccepting: answer_with(503),
}
