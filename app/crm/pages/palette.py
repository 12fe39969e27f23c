"""The search palette (Ctrl/Cmd+K, templates/crm/_palette.html): results as you type, grouped by object, and the
same search as a page of its own for deep links (``/t/{slug}/search?q=...``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Template

from app.crm.fields import FieldDefinition, FieldType
from app.crm.metadata import Catalogue, ObjectDefinition
from app.crm.pages.dashboard import Dashboard
from app.crm.pages.present import object_label, option_label, record_title, title_fields
from app.crm.search import MAX_QUERY_LENGTH, SearchTooShort, search_everything
from app.lib.i18n import format_date, format_datetime, format_money, format_number
from app.lib.remembered import Remembered

__all__ = ["PALETTE_ROUTES", "Hit", "HitGroup"]

PALETTE_TARGET = "palette-results"
"""The id of the palette's results box (templates/crm/_palette.html): htmx names it in HX-Target."""
PALETTE_HITS_PER_OBJECT = 5
PAGE_HITS_PER_OBJECT = 20
_DETAILS = 2
# Order items are shown inside their orders: searching them would only duplicate the orders' hits.
_NOT_SEARCHED = frozenset({"order_items"})
_DETAIL_TYPES = frozenset(
    {
        FieldType.EMAILS,
        FieldType.PHONES,
        FieldType.TEXT,
        FieldType.CURRENCY,
        FieldType.SELECT,
        FieldType.NUMBER,
        FieldType.DATE,
        FieldType.DATETIME,
        FieldType.FULL_NAME,
        FieldType.ADDRESS,
    }
)


@dataclass(frozen=True)
class Hit:
    id: str
    title: str
    detail: str
    url: str


@dataclass(frozen=True)
class HitGroup:
    object_name: str
    label: str
    hits: list[Hit]


@get("/search", name="palette-search", cache=False)
async def palette_search(dashboard: NamedDependency[Dashboard], q: FromQuery[str | None] = None) -> Template:
    """The palette's results (an htmx fragment for its results box), or a whole page otherwise: a link, a boosted
    link or form, or back/forward restoring the page."""
    htmx = getattr(dashboard.request, "htmx", None)
    fragment = bool(htmx) and htmx is not None and htmx.target == PALETTE_TARGET
    query = (q or "").strip()[:MAX_QUERY_LENGTH]
    groups: list[HitGroup] = []
    too_short = False
    if query:
        try:
            groups = await _search(
                dashboard, query, per_object=PALETTE_HITS_PER_OBJECT if fragment else PAGE_HITS_PER_OBJECT
            )
        except SearchTooShort:
            too_short = True
    context: dict[str, Any] = {"query": query, "groups": groups, "too_short": too_short}
    if fragment:
        return dashboard.page("crm/_palette_results.html", **context)
    return dashboard.page("crm/_palette_page.html", **context)


async def _search(dashboard: Dashboard, query: str, *, per_object: int) -> list[HitGroup]:
    catalogue = _searched_catalogue(dashboard.catalogue)
    found = await search_everything(
        dashboard.connection, catalogue, query, per_object=per_object, fields_of=_fields_shown
    )
    language = dashboard.language
    groups = []
    for name, records in found.items():
        obj = catalogue.objects[name]
        groups.append(
            HitGroup(
                object_name=name,
                label=object_label(obj, language),
                hits=[
                    Hit(
                        id=record["id"],
                        title=record_title(obj, record, language),
                        detail=_detail(obj, record, language),
                        url=dashboard.url("o", name, record["id"]),
                    )
                    for record in records
                ],
            )
        )
    return groups


_searched_catalogues: Remembered[Catalogue] = Remembered(1000)


def _searched_catalogue(catalogue: Catalogue) -> Catalogue:
    """The catalogue without the objects the palette does not search, made once per catalogue (search remembers
    how it asks a catalogue by the catalogue itself)."""
    found = _searched_catalogues.get(catalogue, "searched")
    if found is None:
        found = Catalogue(objects={name: obj for name, obj in catalogue.objects.items() if name not in _NOT_SEARCHED})
        _searched_catalogues.put(catalogue, "searched", found)
    return found


def _fields_shown(obj: ObjectDefinition) -> list[FieldDefinition]:
    """The fields a hit may show: its title's, and those `_detail` may pick."""
    titles = title_fields(obj)
    titled = {field.name for field in titles}
    return [*titles, *(field for field in obj.fields if _may_detail(field) and field.name not in titled)]


def _may_detail(field: FieldDefinition) -> bool:
    return field.type in _DETAIL_TYPES and field.name != "salla_id"


def _detail(obj: ObjectDefinition, record: dict[str, Any], language: str) -> str:
    """A line that tells hits with the same name apart: the first few filled fields after the title (e-mail,
    phone, city for a customer; total and date for an order), as plain text."""
    titled = {field.name for field in title_fields(obj)}
    parts: list[str] = []
    for field in obj.fields:
        if field.name in titled or not _may_detail(field):
            continue
        text = _plain(field, record.get(field.name), language)
        if text:
            parts.append(text)
        if len(parts) == _DETAILS:
            break
    return " · ".join(parts)


def _plain(field: FieldDefinition, value: Any, language: str) -> str:
    if value is None or value == "" or value == []:
        return ""
    kind = field.type
    if kind in (FieldType.EMAILS, FieldType.PHONES):
        return str(value.get("primary") or "")
    if kind == FieldType.CURRENCY:
        return format_money(value.get("amount_minor"), value.get("currency"), language)
    if kind == FieldType.SELECT:
        return option_label(field, value, language)
    if kind == FieldType.NUMBER:
        return format_number(value, language)
    if kind == FieldType.DATE:
        return format_date(value, language)
    if kind == FieldType.DATETIME:
        return format_datetime(value, language, style="short")
    if kind in (FieldType.FULL_NAME, FieldType.ADDRESS):
        return " ".join(str(part) for part in value.values() if part)
    return str(value)


PALETTE_ROUTES: list[Any] = [palette_search]
