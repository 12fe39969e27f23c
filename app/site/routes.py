"""Public pages that need no account."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from app.accounts import services as accounts
from app.accounts.access import signed_in_user_id
from app.lib.locale import SUPPORTED, set_language_cookie

__all__ = ["landing_page", "switch_language"]


@get("/", name="landing", include_in_schema=False, cache=False)
async def landing_page() -> Template:
    return Template(template_name="site/landing.html")


@get("/language/{code:str}", name="switch-language", include_in_schema=False, cache=False)
async def switch_language(request: Request[Any, Any, Any], code: FromPath[str], next: FromQuery[str] = "/") -> Redirect:
    """Remember the chosen language in a cookie and go back to where the switch was clicked. A signed-in person's
    choice is also saved to their account, so their next sign-in, on any browser, speaks it."""
    if code not in SUPPORTED:
        raise NotFoundException(f"Wosool speaks {', '.join(SUPPORTED)}; there is no language {code!r}.")
    user_id = signed_in_user_id(request)
    if user_id is not None:
        await accounts.remember_language(user_id, code)
    target = next if next.startswith("/") and not next.startswith("//") and "\\" not in next else "/"
    response = Redirect(path=target)
    set_language_cookie(response, code)
    return response
