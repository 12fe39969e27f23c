"""Salla's OAuth bookkeeping: authorization codes, access tokens and single-use rotating refresh tokens.

Rules (shared/reference/salla.md, "OAuth"): a code is single use; an access token lives 14 days unless told
otherwise; a refresh token is single use and rotates (each refresh answers a new access and refresh token);
presenting a refresh token that was already used answers ``invalid_grant`` and revokes every token of its
family — the new access and refresh token issued from it included — so the merchant must reinstall. A family is
everything that descends from one grant (an install's ``app.store.authorize`` tokens or one code exchange).
Presenting a used code does the same to the tokens issued from that code.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

__all__ = ["DEFAULT_SCOPE", "Grant", "GrantError", "TokenBook"]

DEFAULT_SCOPE = "offline_access settings.read customers.read orders.read products.read webhooks.read_write"
ACCESS_TOKEN_SECONDS = 14 * 86_400
CODE_SECONDS = 600


class GrantError(Exception):
    """The token endpoint's refusal: an OAuth error code (``invalid_grant``...) and a description."""

    def __init__(self, error: str, description: str, merchant_id: int | None = None) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.merchant_id = merchant_id
        """The store whose token or code it was, when the sandbox knows it."""


@dataclass(frozen=True)
class Grant:
    """What the token endpoint (and ``app.store.authorize``) hands out."""

    merchant_id: int
    access_token: str
    refresh_token: str
    expires: int
    """Absolute unix seconds."""
    expires_in: int
    scope: str


@dataclass
class _Family:
    merchant_id: int
    revoked: bool = False


@dataclass
class _Access:
    family: _Family
    expires_at: float
    scope: str
    revoked: bool = False


@dataclass
class _Refresh:
    family: _Family
    scope: str
    used: bool = False


@dataclass
class _Code:
    merchant_id: int
    client_id: str
    redirect_uri: str
    scope: str
    expires_at: float
    used: bool = False
    family: _Family | None = None


@dataclass
class TokenBook:
    """Every code and token the sandbox issued. Not thread-safe on its own: the sandbox locks."""

    access_token_seconds: int = ACCESS_TOKEN_SECONDS
    revoke_previous_access_on_refresh: bool = False
    """Off by default: salla.md says nothing about the old access token after a refresh, so it lives on until it
    expires. Turn it on to check that a client survives losing it (OAuth servers such as Ory Hydra do that)."""
    _codes: dict[str, _Code] = field(default_factory=dict)
    _access: dict[str, _Access] = field(default_factory=dict)
    _refresh: dict[str, _Refresh] = field(default_factory=dict)
    _families: list[_Family] = field(default_factory=list)

    def issue(
        self, merchant_id: int, now: float, *, expires_in: int | None = None, scope: str = DEFAULT_SCOPE
    ) -> Grant:
        family = _Family(merchant_id)
        self._families.append(family)
        return self._pair(family, now, expires_in=expires_in, scope=scope)

    def issue_code(self, merchant_id: int, now: float, *, client_id: str, redirect_uri: str, scope: str) -> str:
        code = secrets.token_urlsafe(24)
        self._codes[code] = _Code(merchant_id, client_id, redirect_uri, scope, now + CODE_SECONDS)
        return code

    def exchange_code(self, code: str, now: float, *, client_id: str, redirect_uri: str) -> Grant:
        found = self._codes.get(code)
        if found is None or found.client_id != client_id:
            raise GrantError("invalid_grant", "The authorization code is invalid.")
        merchant_id = found.merchant_id
        if found.used:
            if found.family is not None:
                found.family.revoked = True
            raise GrantError("invalid_grant", "The authorization code has already been used.", merchant_id)
        if now >= found.expires_at:
            raise GrantError("invalid_grant", "The authorization code has expired.", merchant_id)
        if redirect_uri != found.redirect_uri:
            raise GrantError(
                "invalid_grant", "The redirect_uri does not match the one of the authorization request.", merchant_id
            )
        found.used = True
        grant = self.issue(found.merchant_id, now, scope=found.scope)
        found.family = self._access[grant.access_token].family
        return grant

    def refresh(self, refresh_token: str, now: float) -> Grant:
        found = self._refresh.get(refresh_token)
        if found is None:
            raise GrantError("invalid_grant", "The refresh token is invalid.")
        merchant_id = found.family.merchant_id
        if found.family.revoked:
            raise GrantError("invalid_grant", "The refresh token has been revoked.", merchant_id)
        if found.used:
            found.family.revoked = True
            raise GrantError(
                "invalid_grant", "The refresh token has already been used; its tokens are revoked.", merchant_id
            )
        found.used = True
        if self.revoke_previous_access_on_refresh:
            for access in self._access.values():
                if access.family is found.family:
                    access.revoked = True
        return self._pair(found.family, now, expires_in=None, scope=found.scope)

    def merchant_of(self, access_token: str, now: float) -> int | None:
        """The store an access token acts for, or None when it is unknown, expired or revoked."""
        found = self._access.get(access_token)
        if found is None or found.revoked or found.family.revoked or now >= found.expires_at:
            return None
        return found.family.merchant_id

    def revoke_merchant(self, merchant_id: int) -> None:
        for family in self._families:
            if family.merchant_id == merchant_id:
                family.revoked = True

    def expire_access(self, merchant_id: int) -> None:
        """Make every access token of a store expired (a test's shortcut to the day token refresh matters)."""
        for access in self._access.values():
            if access.family.merchant_id == merchant_id:
                access.expires_at = float("-inf")

    def _pair(self, family: _Family, now: float, *, expires_in: int | None, scope: str) -> Grant:
        lifetime = self.access_token_seconds if expires_in is None else expires_in
        access_token, refresh_token = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        self._access[access_token] = _Access(family, now + lifetime, scope)
        self._refresh[refresh_token] = _Refresh(family, scope)
        return Grant(
            merchant_id=family.merchant_id,
            access_token=access_token,
            refresh_token=refresh_token,
            expires=int(now + lifetime),
            expires_in=lifetime,
            scope=scope,
        )
