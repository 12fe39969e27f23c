"""Dashboard pages: settings. The index and the person's own profile and language live here; the team and API
keys in settings_team.py, objects and fields in settings_schema.py, pipeline stages in settings_pipeline.py.

Every member sees their profile and the team; only owners and admins see (and may post to) the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from app.accounts import services as accounts
from app.accounts.services import InvalidInput
from app.crm.pages.dashboard import Dashboard
from app.crm.pages.settings_pipeline import PIPELINE_ROUTES
from app.crm.pages.settings_schema import SCHEMA_ROUTES
from app.crm.pages.settings_team import TEAM_ROUTES
from app.lib.locale import set_language_cookie

__all__ = ["SETTINGS_ROUTES"]


@get("/settings", name="settings", cache=False)
async def settings_index(dashboard: NamedDependency[Dashboard]) -> Template:
    return dashboard.page("crm/settings/index.html", section="")


@dataclass
class ProfileForm:
    name: str = ""
    language: str = ""


@get("/settings/profile", name="settings-profile", cache=False)
async def profile_page(dashboard: NamedDependency[Dashboard], saved: FromQuery[str] = "") -> Template:
    user = await accounts.user_profile(dashboard.member.user_id)
    form = ProfileForm(name=user.name if user else "", language=(user.locale if user else "") or dashboard.language)
    return _profile(dashboard, form, saved=saved == "1")


@post("/settings/profile", request_max_body_size=8 * 1024)
async def save_profile(dashboard: NamedDependency[Dashboard], data: URLEncodedBody[ProfileForm]) -> Template | Redirect:
    """Anyone may change their own name and language. The language applies at once (the cookie) and on every
    later sign-in (the account)."""
    try:
        user = await accounts.update_profile(dashboard.member.user_id, name=data.name, language=data.language)
    except InvalidInput as error:
        return _profile(dashboard, data, errors=error.errors, status_code=422)
    response = Redirect(path=dashboard.url("settings", "profile") + "?saved=1", status_code=303)
    set_language_cookie(response, user.locale)
    return response


def _profile(
    dashboard: Dashboard,
    form: ProfileForm,
    *,
    errors: dict[str, str] | None = None,
    saved: bool = False,
    status_code: int = 200,
) -> Template:
    return dashboard.page(
        "crm/settings/profile.html",
        status_code=status_code,
        section="profile",
        form=form,
        errors=errors or {},
        saved=saved,
    )


SETTINGS_ROUTES: list[Any] = [
    settings_index,
    profile_page,
    save_profile,
    *TEAM_ROUTES,
    *SCHEMA_ROUTES,
    *PIPELINE_ROUTES,
]
