"""What every settings page shares: who may change settings, how a form answers (htmx or not), and toasts that
survive a page swap."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable

from litestar.response import Redirect, Template

from app.accounts.services import NotAllowed
from app.crm.pages.dashboard import Dashboard
from app.crm.services import catalogue_of
from app.lib.i18n import gettext as _

__all__ = [
    "FORM_LIMIT",
    "done",
    "invalid_status",
    "is_htmx",
    "refresh_catalogue",
    "require_manager",
    "snake_case",
    "toast_after_swap",
]

FORM_LIMIT = 64 * 1024
"""The largest settings form (a select field with many options is the biggest)."""

_NOT_SNAKE = re.compile(r"[^a-z0-9]+")


def require_manager(dashboard: Dashboard) -> None:
    """Owners and admins change settings; anyone else gets a 403 (the pages hide the controls from them)."""
    if not dashboard.can_manage:
        raise NotAllowed(_("Only owners and admins can change this."))


def is_htmx(dashboard: Dashboard) -> bool:
    return dashboard.request.headers.get("hx-request") == "true"


def invalid_status(dashboard: Dashboard, status_code: int = 422) -> int:
    """The status of a form shown again with its errors: 422 for htmx (the page config swaps 422 in, keeping what
    was typed on screen); plain browsers and clients get ``status_code``, the error's own status."""
    return 422 if is_htmx(dashboard) else status_code


def toast_after_swap(response: Template, message: str, kind: str = "success") -> Template:
    """A toast shown once htmx has swapped the new page in (``HX-Trigger-After-Settle``: a toast raised before a
    whole-page swap would be swapped away with the old page)."""
    response.headers["HX-Trigger-After-Settle"] = json.dumps(
        {"wosool:toast": {"message": message, "kind": kind}}, ensure_ascii=True
    )
    return response


async def done(
    dashboard: Dashboard, url: str, render: Callable[[], Awaitable[Template]], message: str
) -> Template | Redirect:
    """After a change: htmx gets the page at ``url`` at once (pushed to the address bar) with a toast; a plain
    form post is redirected there (post/redirect/get, so reloading never repeats the change)."""
    if not is_htmx(dashboard):
        return Redirect(path=url, status_code=303)
    page = await render()
    page.headers["HX-Push-Url"] = url
    return toast_after_swap(page, message)


async def refresh_catalogue(dashboard: Dashboard) -> None:
    """Read the catalogue again after a schema change (its version changed, so this reloads it)."""
    dashboard.catalogue = await catalogue_of(dashboard.connection, dashboard.tenant)


def snake_case(text: str, *, fallback: str) -> str:
    """A snake_case API name from an English label ("Loyalty tier" -> loyalty_tier); ``fallback`` when the label
    has no Latin letters or digits (an Arabic-only label)."""
    name = _NOT_SNAKE.sub("_", text.strip().lower()).strip("_")
    if not name:
        return fallback
    if not name[0].isalpha():
        name = f"{fallback}_{name}"
    return name[:50].rstrip("_")
