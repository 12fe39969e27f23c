"""What every dashboard page starts from: the member's access, a connection to the tenant's CRM, its catalogue and
the viewer's language. Handlers take it as the ``dashboard`` dependency and render with `Dashboard.page`."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg
from litestar import MediaType, Request, Response
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.response import Template
from markupsafe import Markup

from app.accounts.access import TenantAccess
from app.accounts.repository import MemberRecord
from app.crm.metadata import Catalogue, ObjectDefinition
from app.crm.records import Actor
from app.crm.services import catalogue_of, crm_connection
from app.lib.i18n import DEFAULT_TIMEZONE, activate, use_language
from app.lib.locale import locale_for
from app.lib.remembered import Remembered
from app.tenancy.repository import TenantRecord

__all__ = ["Dashboard", "open_dashboard", "toast"]

_FRAGMENTS_LIMIT = 1000
_fragments: Remembered[Markup] = Remembered(_FRAGMENTS_LIMIT)
"""Rendered `Dashboard.fragment`s by (template, tenant slug, language): templates only change with a release."""
_sidebars: Remembered[Markup] = Remembered(_FRAGMENTS_LIMIT)
"""Rendered sidebars by (tenant slug and name, language, section); the catalogue is their owner."""

# Objects that are not listed in the sidebar: they are shown inside other records.
_HIDDEN_OBJECTS = frozenset({"order_items"})
_SECTIONS = {"salla": "salla", "import": "import", "imports": "import", "settings": "settings"}
"""The sidebar section of each first part of a path (``/t/<slug>/<part>/...``) besides home and the objects."""


@dataclass
class Dashboard:
    request: Request[Any, Any, Any]
    tenant: TenantRecord
    member: MemberRecord
    connection: asyncpg.Connection
    catalogue: Catalogue
    language: str
    """``ar`` or ``en``: the language the page is shown in."""
    timezone: str = DEFAULT_TIMEZONE

    @property
    def actor(self) -> Actor:
        return Actor(source="user", id=str(self.member.user_id), name=self.member.name or self.member.email)

    @property
    def can_manage(self) -> bool:
        """Owners and admins change settings (fields, objects, stages, members, API keys)."""
        return self.member.role in ("owner", "admin")

    def url(self, *parts: object) -> str:
        """``/t/<slug>/<parts...>``: links inside this tenant."""
        tail = "/".join(str(part).strip("/") for part in parts)
        return f"/t/{self.tenant.slug}/{tail}"

    def object(self, name: str) -> ObjectDefinition:
        """The object ``name`` or a 404 (an unknown object in a URL is a page that does not exist)."""
        obj = self.catalogue.get(name)
        if obj is None:
            raise NotFoundException("No such page.")
        return obj

    def sidebar_objects(self) -> list[ObjectDefinition]:
        return [obj for name, obj in self.catalogue.objects.items() if name not in _HIDDEN_OBJECTS]

    def fragment(self, template: str) -> Markup:
        """A part of the frame that depends on nothing but the tenant's slug and the language (the search palette,
        the style sheets and scripts), rendered once per process."""
        key = (template, self.tenant.slug, self.language)
        html = _fragments.get(None, key)
        if html is None:
            html = self.render_fragment(template)
            _fragments.put(None, key, html)
        return html

    def sidebar(self) -> Markup:
        """The frame's sidebar (templates/crm/_sidebar.html), rendered once per process for each tenant name,
        catalogue, language and section: it changes with nothing else, and every page shows it."""
        current = self.section()
        key = (self.tenant.slug, self.tenant.name, self.language, current)
        html = _sidebars.get(self.catalogue, key)
        if html is None:
            html = self.render_fragment("crm/_sidebar.html", dashboard=self, current=current, language=self.language)
            _sidebars.put(self.catalogue, key, html)
        return html

    def section(self) -> str | None:
        """Where this page is in the sidebar: "" (home), an object's name, "salla", "import", "settings" or None."""
        inside = self.url("")  # "/t/<slug>/"
        here = self.request.url.path
        if here.rstrip("/") == inside.rstrip("/"):
            return ""
        if not here.startswith(inside):
            return None
        first, _, rest = here[len(inside) :].partition("/")
        if first == "o":
            name = rest.partition("/")[0]
            return name if name in self.catalogue.objects and name not in _HIDDEN_OBJECTS else None
        return _SECTIONS.get(first)

    def render_fragment(self, template: str, **context: Any) -> Markup:
        """``template`` rendered on its own (no request in its context) in the page's language."""
        engine = self.request.app.template_engine
        assert engine is not None, "the app renders templates"
        with use_language(self.language):
            rendered = engine.engine.get_template(template).render(tenant=self.tenant, **context)
        return Markup(rendered)  # noqa: S704 - rendered by an autoescaping template

    def page(self, template: str, status_code: int = 200, **context: Any) -> Template:
        return Template(
            template,
            context={
                "dashboard": self,
                "tenant": self.tenant,
                "member": self.member,
                "language": self.language,
                "timezone": self.timezone,
                **context,
            },
            status_code=status_code,
            media_type=MediaType.HTML,  # else Litestar guesses it from the template's name on every response
        )


async def open_dashboard(
    request: Request[Any, Any, Any], access: NamedDependency[TenantAccess]
) -> AsyncGenerator[Dashboard, None]:
    language = locale_for(request).code
    activate(language)
    async with crm_connection(access.tenant, request.app.state.settings) as connection:
        catalogue = await catalogue_of(connection, access.tenant)
        yield Dashboard(
            request=request,
            tenant=access.tenant,
            member=access.member,
            connection=connection,
            catalogue=catalogue,
            language=language,
        )


def toast(response: Response[Any], message: str, kind: str = "success") -> Response[Any]:
    """Show ``message`` in a toast once htmx has swapped the response in (``HX-Trigger``)."""
    existing: Mapping[str, Any] = json.loads(response.headers.get("HX-Trigger", "{}") or "{}")
    response.headers["HX-Trigger"] = json.dumps(
        {**existing, "wosool:toast": {"message": message, "kind": kind}}, ensure_ascii=True
    )
    return response
