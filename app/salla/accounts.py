"""Salla's accounts server (OAuth 2): exchanging a code, refreshing tokens, and who installed the app.

Refresh tokens are single use and rotate: a refresh token sent twice is ``invalid_grant``, and Salla then revokes
both tokens. That is why `refresh_grant` never retries a request that may have reached Salla (the caller,
`app.salla.tokens.refresh_tokens`, serialises refreshes per store), and why nothing here ever puts a token in an
exception, a log line or a repr.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from app.settings import Settings

__all__ = [
    "ACCESS_TOKEN_LIFETIME",
    "AccountsError",
    "InvalidGrant",
    "SallaUnavailable",
    "StoreOwner",
    "TokenGrant",
    "exchange_code",
    "grant_from_payload",
    "refresh_grant",
    "user_info",
]

ACCESS_TOKEN_LIFETIME = timedelta(days=14)
"""Salla's access tokens live 14 days; assumed when a grant states no expiry at all."""

_DURATION_BELOW = 1_000_000_000
"""An expiry under this is a duration in seconds (``expires_in``), not a unix time (``expires``)."""

_TIMEOUT = httpx.Timeout(20.0, connect=5.0)


class AccountsError(Exception):
    """Salla's accounts server refused a request (the message says why; it never holds a token)."""

    def __init__(self, message: str, *, status: int | None = None, code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class InvalidGrant(AccountsError):
    """``invalid_grant``: the code or refresh token is used, expired or revoked. Retrying cannot help."""


class SallaUnavailable(AccountsError):
    """The accounts server could not be reached or failed (network error, timeout, 5xx): try again later."""


@dataclass(frozen=True)
class TokenGrant:
    """A pair of tokens from Salla; ``repr`` shows neither token."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: datetime
    scope: str


@dataclass(frozen=True)
class StoreOwner:
    """``/oauth2/user/info``: the person who authorised the app and their store."""

    user_id: int
    name: str
    email: str
    mobile: str
    merchant_id: int
    username: str
    store_name: str
    domain: str
    plan: str
    avatar: str


def grant_from_payload(data: Mapping[str, Any], *, now: datetime | None = None) -> TokenGrant:
    """Tokens from a token response or an ``app.store.authorize`` webhook.

    The expiry is ``expires`` (absolute unix seconds) or ``expires_in`` (seconds from now); a value under 1e9 is
    a duration whatever its name. Raises ValueError naming what is missing or malformed."""
    moment = now or datetime.now(UTC)
    return TokenGrant(
        access_token=_token(data, "access_token"),
        refresh_token=_token(data, "refresh_token"),
        expires_at=_expiry(data, moment),
        scope=_scope(data.get("scope")),
    )


def _token(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"the grant has no {name}")
    return value.strip()


def _expiry(data: Mapping[str, Any], now: datetime) -> datetime:
    raw = data.get("expires", data.get("expires_in"))
    if raw is None or raw == "":
        return now + ACCESS_TOKEN_LIFETIME
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ValueError(f"the grant's expiry is not a number: {raw!r}") from None
    if value <= 0:
        raise ValueError(f"the grant's expiry is not positive: {raw!r}")
    if value < _DURATION_BELOW:
        return now + timedelta(seconds=value)
    return datetime.fromtimestamp(value, UTC)


def _scope(raw: object) -> str:
    if isinstance(raw, list | tuple):
        return " ".join(str(part) for part in raw)
    return "" if raw is None else str(raw)


async def exchange_code(settings: Settings, code: str, redirect_uri: str) -> TokenGrant:
    """Custom mode: the authorization code (single use) for tokens."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": settings.salla.client_id,
        "client_secret": settings.salla.client_secret,
    }
    return await _token_request(settings, form)


async def refresh_grant(settings: Settings, refresh_token: str) -> TokenGrant:
    """A new pair for a refresh token, which Salla then considers used.

    Not retried here: a request that timed out may have rotated the pair on Salla's side, and sending the old
    refresh token again would get both tokens revoked. Raises InvalidGrant or SallaUnavailable."""
    form = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": settings.salla.client_id,
        "client_secret": settings.salla.client_secret,
    }
    return await _token_request(settings, form)


async def user_info(settings: Settings, access_token: str) -> StoreOwner:
    """The owner and store behind an access token (the ``data`` envelope is optional)."""
    url = f"{settings.salla.accounts_url}/oauth2/user/info"
    headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
    response = await _send("GET", url, headers=headers)
    body = _json_object(response)
    if response.status_code != 200:
        raise _error_of(response, body, "user info", secrets=(access_token,))
    return _owner(_envelope_data(body))


def _envelope_data(body: dict[str, Any]) -> Mapping[str, Any]:
    """``body["data"]`` when Salla wrapped the answer in its envelope, else the body itself."""
    data = body.get("data")
    return data if isinstance(data, Mapping) else body


def _owner(info: Mapping[str, Any]) -> StoreOwner:
    merchant = info.get("merchant") if isinstance(info.get("merchant"), Mapping) else {}
    assert isinstance(merchant, Mapping)
    merchant_id = merchant.get("id")
    if merchant_id in (None, ""):
        raise AccountsError("Salla's user info names no merchant")
    return StoreOwner(
        user_id=_int(info.get("id")),
        name=_text(info.get("name")),
        email=_text(info.get("email")),
        mobile=_text(info.get("mobile")),
        merchant_id=_int(merchant_id),
        username=_text(merchant.get("username")),
        store_name=_text(merchant.get("name")),
        domain=_text(merchant.get("domain")),
        plan=_text(merchant.get("plan")),
        avatar=_text(merchant.get("avatar")),
    )


def _int(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise AccountsError(f"Salla's user info has a malformed id: {value!r}") from None


def _text(value: object) -> str:
    return "" if value is None else str(value)


async def _token_request(settings: Settings, form: Mapping[str, str]) -> TokenGrant:
    url = f"{settings.salla.accounts_url}/oauth2/token"
    response = await _send("POST", url, data=form, headers={"Accept": "application/json"})
    body = _json_object(response)
    if response.status_code != 200:
        raise _error_of(response, body, form["grant_type"], secrets=_secrets_of(form))
    try:
        return grant_from_payload(_envelope_data(body))
    except ValueError as error:
        raise AccountsError(f"Salla's token response is unusable: {error}", status=200) from None


def _secrets_of(form: Mapping[str, str]) -> tuple[str, ...]:
    return tuple(form.get(name, "") for name in ("refresh_token", "code", "client_secret"))


async def _send(method: str, url: str, **kwargs: Any) -> httpx.Response:
    started = time.monotonic()
    try:
        async with httpx.AsyncClient(timeout=_TIMEOUT) as http:
            return await http.request(method, url, **kwargs)
    except httpx.HTTPError as error:
        elapsed = time.monotonic() - started
        # The error's message names the URL at most; never the form or the headers.
        raise SallaUnavailable(
            f"Salla's accounts server did not answer ({type(error).__name__} after {elapsed:.1f} s)"
        ) from None


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _error_of(
    response: httpx.Response, body: Mapping[str, Any], action: str, *, secrets: tuple[str, ...]
) -> AccountsError:
    """Salla answers OAuth errors as ``{error, error_description}`` or in its API envelope ``{error: {code,
    message}}``; ``invalid_grant`` may come with 400 or 401. Anything we sent is cut out of Salla's message."""
    status = response.status_code
    code, message = _code_and_message(body)
    for secret in secrets:
        if len(secret) >= 8:
            message = message.replace(secret, "[redacted]")
    text = (
        f"Salla refused the {action} request ({status}{', ' + code if code else ''}{': ' + message if message else ''})"
    )
    if code == "invalid_grant":
        return InvalidGrant(text, status=status, code=code)
    if status >= 500:
        return SallaUnavailable(text, status=status, code=code)
    return AccountsError(text, status=status, code=code)


def _code_and_message(body: Mapping[str, Any]) -> tuple[str, str]:
    error = body.get("error")
    if isinstance(error, Mapping):
        return _text(error.get("code")), _text(error.get("message"))[:200]
    return _text(error), _text(body.get("error_description") or body.get("message"))[:200]
