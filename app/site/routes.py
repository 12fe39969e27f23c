"""Public pages that need no account."""

from __future__ import annotations

from litestar import get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from app.lib.locale import LANGUAGE_COOKIE, SUPPORTED

__all__ = ["landing_page", "switch_language"]

_ONE_YEAR = 365 * 24 * 3600


@get("/", name="landing", include_in_schema=False, cache=False)
async def landing_page() -> Template:
    return Template(template_name="site/landing.html")


@get("/language/{code:str}", name="switch-language", include_in_schema=False, cache=False)
async def switch_language(code: FromPath[str], next: FromQuery[str] = "/") -> Redirect:
    """Remember the chosen language in a cookie and go back to where the switch was clicked."""
    if code not in SUPPORTED:
        raise NotFoundException(f"Wosool speaks {', '.join(SUPPORTED)}; there is no language {code!r}.")
    target = next if next.startswith("/") and not next.startswith("//") and "\\" not in next else "/"
    response = Redirect(path=target)
    response.set_cookie(LANGUAGE_COOKIE, code, max_age=_ONE_YEAR, samesite="lax", httponly=True)
    return response
