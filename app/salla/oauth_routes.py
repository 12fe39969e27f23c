"""Custom mode and "Log in with Salla": ``/oauth/salla/start`` sends the merchant to Salla, Salla sends them back to
``/oauth/salla/callback`` with a one-time code. The callback connects the store exactly as ``app.store.authorize``
does (a new CRM, or the existing one) and signs its owner in: a store owner needs no Wosool password.

Salla also calls the callback on its own, right after a merchant installs the app in custom mode, with a state
this browser never got from us. The code is still good for connecting the store (only our client secret can
redeem it), but signing a browser in on a flow it did not start would let someone log a victim into the
attacker's CRM; so that browser is sent through ``/start`` once, which signs the real owner in.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, get
from litestar.exceptions import HTTPException
from litestar.params import FromQuery, QueryParameter
from litestar.response import Redirect
from litestar.status_codes import HTTP_400_BAD_REQUEST, HTTP_502_BAD_GATEWAY, HTTP_503_SERVICE_UNAVAILABLE

from app.accounts import repository as people
from app.accounts.access import sign_in_session
from app.salla import install
from app.salla.accounts import AccountsError, InvalidGrant, SallaUnavailable, exchange_code
from app.settings import Settings

__all__ = ["OAUTH_ROUTES", "callback_url"]

STATE_KEY = "salla_oauth_state"
SCOPE = "offline_access"


def callback_url(settings: Settings) -> str:
    return f"{settings.app_url}/oauth/salla/callback"


def _settings(request: Request[Any, Any, Any]) -> Settings:
    settings: Settings = request.app.state.settings
    if not (settings.salla.client_id and settings.salla.client_secret):
        raise HTTPException(
            status_code=HTTP_503_SERVICE_UNAVAILABLE, detail="Signing in with Salla is not configured here"
        )
    return settings


def _without_hyphens(value: str) -> str:
    return value.replace("-", "")


@get("/oauth/salla/start", name="salla_start", include_in_schema=False, cache=False)
async def start(request: Request[Any, Any, Any]) -> Redirect:
    settings = _settings(request)
    state = secrets.token_urlsafe(24)
    request.session[STATE_KEY] = state
    query = urlencode(
        {
            "client_id": settings.salla.client_id,
            "response_type": "code",
            "redirect_uri": callback_url(settings),
            "scope": SCOPE,
            "state": state,
        }
    )
    return Redirect(path=f"{settings.salla.accounts_url}/oauth2/auth?{query}")


@get("/oauth/salla/callback", name="salla_callback", include_in_schema=False, cache=False)
async def callback(
    request: Request[Any, Any, Any],
    code: FromQuery[str] = "",
    returned_state: Annotated[str, QueryParameter(name="state")] = "",
    error: FromQuery[str] = "",
) -> Redirect:
    settings = _settings(request)
    expected = str(request.session.pop(STATE_KEY, "") or "") if request.session else ""
    if error:
        raise HTTPException(status_code=HTTP_400_BAD_REQUEST, detail=f"Salla did not authorise the app: {error[:200]}")
    # Salla strips hyphens from the state it sends back.
    started_here = bool(expected)
    if started_here and not secrets.compare_digest(_without_hyphens(expected), _without_hyphens(returned_state)):
        raise HTTPException(
            status_code=HTTP_400_BAD_REQUEST, detail="This sign-in link is stale or was not started here; start again"
        )
    if not code:
        raise HTTPException(status_code=HTTP_400_BAD_REQUEST, detail="Salla sent no authorisation code")
    try:
        grant = await exchange_code(settings, code, callback_url(settings))
    except InvalidGrant:
        raise HTTPException(
            status_code=HTTP_400_BAD_REQUEST, detail="This authorisation code was already used or has expired"
        ) from None
    except SallaUnavailable:
        raise HTTPException(
            status_code=HTTP_503_SERVICE_UNAVAILABLE, detail="Salla is not answering; try again"
        ) from None
    except AccountsError as refused:
        # Salla refused our app itself (invalid_client: a wrong SALLA_CLIENT_SECRET, say): ours to fix.
        raise HTTPException(status_code=HTTP_502_BAD_GATEWAY, detail=f"Salla refused the sign-in: {refused}") from None
    context = install.StoreContext(settings=settings, redis=request.app.state.redis, queue=request.app.state.queue)
    connected = await install.connect_store(None, grant, context)
    assert connected is not None  # no uninstall can be newer than a code Salla has just issued
    if not started_here:
        return Redirect(path="/oauth/salla/start")
    owner = await people.user_by_email(connected.owner_email.lower())
    if owner is not None:
        sign_in_session(request, owner)
    return Redirect(path=f"/t/{connected.tenant.slug}/salla")


OAUTH_ROUTES = [start, callback]
