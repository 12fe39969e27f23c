"""Salla's accounts server (``SALLA_ACCOUNTS_URL``): ``GET /oauth2/auth``, ``POST /oauth2/token`` and
``GET /oauth2/user/info``.

- ``/oauth2/auth`` skips the merchant's log-in and consent screens and redirects straight back to ``redirect_uri``
  with ``code``, ``scope`` and ``state`` — hyphens stripped from ``state``, as Salla does. The store that consents
  is the sandbox's ``authorizing_merchant`` (its first store), or ``merchant_id`` in the query (a sandbox addition).
- ``/oauth2/token`` takes a form-urlencoded body only, client credentials in the form (or HTTP Basic), and
  grant types ``authorization_code`` and ``refresh_token`` (see `tokens.py` for the single-use rules). Errors have
  the OAuth shape ``{error, error_description}``: 400 ``invalid_request`` / ``invalid_grant`` /
  ``unsupported_grant_type``, 401 ``invalid_client``.
- ``/oauth2/user/info`` answers ``{status, success, data: {id, name, email, mobile, role, merchant: {...}}}`` for
  a valid access token, else Salla's 401 envelope.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from app.salla.sandbox.http import Request, Response, error, json_response, oauth_error
from app.salla.sandbox.tokens import DEFAULT_SCOPE, Grant, GrantError

if TYPE_CHECKING:
    from app.salla.sandbox.sandbox import Sandbox

__all__ = ["handle_accounts", "token_response"]


def handle_accounts(sandbox: Sandbox, request: Request) -> Response:
    routes = {
        "/oauth2/auth": ("GET", _authorize),
        "/oauth2/token": ("POST", _token),
        "/oauth2/user/info": ("GET", _user_info),
    }
    route = routes.get(request.path.rstrip("/"))
    if route is None:
        return error(404, "Not found.")
    method, handler = route
    if request.method != method:
        return error(405, f"Use {method}.", code="method_not_allowed")
    return handler(sandbox, request)


def token_response(grant: Grant, expiry_field: str) -> dict[str, Any]:
    """The token endpoint's answer. ``expiry_field``: ``expires`` (absolute unix seconds, as Salla's docs show),
    ``expires_in`` (a duration) or ``both``; salla.md warns clients that either may come."""
    answer: dict[str, Any] = {"token_type": "bearer", "access_token": grant.access_token}
    if expiry_field in {"expires", "both"}:
        answer["expires"] = grant.expires
    if expiry_field in {"expires_in", "both"}:
        answer["expires_in"] = grant.expires_in
    answer["refresh_token"] = grant.refresh_token
    answer["scope"] = grant.scope
    return answer


def _authorize(sandbox: Sandbox, request: Request) -> Response:
    query = request.query
    if query.get("client_id") != sandbox.client_id:
        return oauth_error(400, "invalid_client", "Unknown client_id.")
    redirect_uri = query.get("redirect_uri", "")
    if not redirect_uri:
        return oauth_error(400, "invalid_request", "redirect_uri is required.")
    if sandbox.redirect_uris and redirect_uri not in sandbox.redirect_uris:
        return oauth_error(400, "invalid_request", "redirect_uri is not registered for this app.")
    state = query.get("state")
    if query.get("response_type") != "code":
        return _redirect(redirect_uri, {"error": "unsupported_response_type"}, state)
    merchant_id = _authorizing_merchant(sandbox, query.get("merchant_id", ""))
    if merchant_id is None:
        return oauth_error(400, "invalid_request", "No sandbox store to authorize (add one, or pass merchant_id).")
    scope = " ".join(query.get("scope", "").split()) or DEFAULT_SCOPE
    code = sandbox.issue_code(merchant_id, redirect_uri, scope=scope)
    return _redirect(redirect_uri, {"code": code, "scope": scope}, state)


def _redirect(redirect_uri: str, params: dict[str, str], state: str | None) -> Response:
    if state is not None:
        params = params | {"state": state.replace("-", "")}  # Salla strips hyphens from state
    separator = "&" if "?" in redirect_uri else "?"
    return Response(302, b"", {"Location": f"{redirect_uri}{separator}{urlencode(params)}"})


def _authorizing_merchant(sandbox: Sandbox, asked: str) -> int | None:
    if asked:
        return int(asked) if asked.isdigit() and int(asked) in sandbox.stores else None
    return sandbox.authorizing_merchant


def _token(sandbox: Sandbox, request: Request) -> Response:
    form = request.form()
    if form is None:
        return oauth_error(400, "invalid_request", "The body must be application/x-www-form-urlencoded.")
    client_id, client_secret = _client_credentials(request, form)
    if client_id != sandbox.client_id or not hmac.compare_digest(client_secret, sandbox.client_secret):
        return oauth_error(401, "invalid_client", "Client authentication failed.")
    grant_type = form.get("grant_type", "")
    try:
        if grant_type == "authorization_code":
            if not form.get("code") or not form.get("redirect_uri"):
                return oauth_error(400, "invalid_request", "code and redirect_uri are required.")
            grant = sandbox.exchange_code(form["code"], form["redirect_uri"])
        elif grant_type == "refresh_token":
            if not form.get("refresh_token"):
                return oauth_error(400, "invalid_request", "refresh_token is required.")
            grant = sandbox.refresh(form["refresh_token"])
        else:
            return oauth_error(400, "unsupported_grant_type", f"Unsupported grant_type {grant_type!r}.")
    except GrantError as refused:
        return oauth_error(400, refused.error, refused.description)
    return json_response(200, token_response(grant, sandbox.token_expiry_field))


def _client_credentials(request: Request, form: dict[str, str]) -> tuple[str, str]:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            client_id, _, client_secret = base64.b64decode(encoded).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return "", ""
        return client_id, client_secret
    return form.get("client_id", ""), form.get("client_secret", "")


def _user_info(sandbox: Sandbox, request: Request) -> Response:
    merchant_id = sandbox.merchant_of(request.bearer_token())
    if merchant_id is None:
        return error(401, "The access token is invalid")
    info = sandbox.store(merchant_id).user_info()
    if not sandbox.user_info_envelope:
        return json_response(200, info)
    return json_response(200, {"status": 200, "success": True, "data": info})
