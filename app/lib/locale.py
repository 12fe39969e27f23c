"""Which language a page is shown in: Arabic (right to left) or English."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from litestar import Request, Response

__all__ = ["LANGUAGE_COOKIE", "SUPPORTED", "Locale", "locale_for", "set_language_cookie"]

LANGUAGE_COOKIE = "wosool_lang"
_ONE_YEAR = 365 * 24 * 3600
_Response = TypeVar("_Response", bound=Response[Any])


@dataclass(frozen=True)
class Locale:
    code: str
    direction: str
    name: str
    """The language's name in itself, for the language switch."""


SUPPORTED: dict[str, Locale] = {
    "ar": Locale(code="ar", direction="rtl", name="العربية"),
    "en": Locale(code="en", direction="ltr", name="English"),
}
DEFAULT = SUPPORTED["en"]


def locale_for(request: Request[Any, Any, Any]) -> Locale:
    """The language chosen by cookie, else the browser's preferred one we speak, else English (once per request)."""
    state = request.scope.setdefault("state", {})
    known = state.get("wosool_locale")
    if known is None:
        known = state["wosool_locale"] = _choose(request)
    return known


def set_language_cookie(response: _Response, code: str) -> _Response:
    """Make every later page of this browser speak ``code`` (the language switch, sign-up, sign-in, profile)."""
    if code not in SUPPORTED:
        raise ValueError(f"unknown language {code!r}")
    response.set_cookie(LANGUAGE_COOKIE, code, max_age=_ONE_YEAR, samesite="lax", httponly=True)
    return response


def _choose(request: Request[Any, Any, Any]) -> Locale:
    chosen = request.cookies.get(LANGUAGE_COOKIE, "")
    if chosen in SUPPORTED:
        return SUPPORTED[chosen]
    for code in _accepted_languages(request.headers.get("accept-language", "")):
        if code in SUPPORTED:
            return SUPPORTED[code]
    return DEFAULT


def _accepted_languages(header: str) -> list[str]:
    weighted: list[tuple[float, str]] = []
    for part in header.split(",")[:20]:
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag:
            weighted.append((quality, tag.split("-")[0].lower()))
    return [code for quality, code in sorted(weighted, key=lambda item: -item[0]) if quality > 0]
