"""Which language a page speaks (app/lib/locale.py): the ``wosool_lang`` cookie, else the browser's preferred
language that Wosool speaks (Accept-Language, by weight), else English."""

from __future__ import annotations

import pytest
from httpx import AsyncClient
from litestar import Response

from app.lib.locale import LANGUAGE_COOKIE, set_language_cookie


def _language(html: str) -> str:
    return html.split('<html lang="')[1].split('"')[0]


@pytest.mark.parametrize(
    ("accept_language", "expected"),
    [
        ("ar-SA,ar;q=0.9,en;q=0.5", "ar"),
        ("en-US,en;q=0.9,ar;q=0.8", "en"),
        ("fr-FR,fr;q=0.9,ar;q=0.5,en;q=0.4", "ar"),  # the first one Wosool speaks
        ("en;q=0.2,ar;q=0.7", "ar"),  # by weight, not by order
        ("ar;q=0, en", "en"),  # q=0 means "not this one"
        ("de-DE", "en"),
        ("", "en"),
        ("ar;q=bogus,en", "en"),
    ],
)
async def test_a_browser_without_a_choice_gets_its_preferred_language(
    client: AsyncClient, accept_language: str, expected: str
) -> None:
    page = await client.get("/", headers={"Accept-Language": accept_language})

    assert _language(page.text) == expected


async def test_the_cookie_beats_the_browser(client: AsyncClient) -> None:
    client.cookies.set(LANGUAGE_COOKIE, "ar")
    arabic = await client.get("/", headers={"Accept-Language": "en-US"})
    client.cookies.set(LANGUAGE_COOKIE, "xx")  # an unknown language is ignored
    fallback = await client.get("/", headers={"Accept-Language": "en-US"})

    assert '<html lang="ar" dir="rtl">' in arabic.text
    assert '<html lang="en" dir="ltr">' in fallback.text


def test_the_language_cookie_lasts_a_year_and_scripts_cannot_read_it() -> None:
    response = set_language_cookie(Response(content=""), "ar")
    [cookie] = response.cookies

    assert (cookie.key, cookie.value, cookie.max_age, cookie.httponly, cookie.samesite) == (
        LANGUAGE_COOKIE,
        "ar",
        365 * 24 * 3600,
        True,
        "lax",
    )
    with pytest.raises(ValueError, match="unknown language"):
        set_language_cookie(Response(content=""), "fr")


async def test_an_unknown_language_in_the_switch_is_a_404(client: AsyncClient) -> None:
    response = await client.get("/language/fr?next=/", follow_redirects=False)

    assert response.status_code == 404
    assert LANGUAGE_COOKIE not in response.cookies
