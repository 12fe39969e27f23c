"""The kanban board of any object with a select field (``/t/{slug}/o/{object}/board``): a column per option, with
its count and money sum, cards in manual order. Cards move by drag and drop or with the keyboard (static/js/kanban.js);
both post to ``/o/{object}/{id}/move``, which stores the new value and place (app.crm.records.move_record) and
answers JSON with the columns' new counts, so the page can move the card at once and take it back on an error.

URL: ``field`` (the select field; by default the saved kanban view's, else ``stage``, else the first select field),
``view`` (a saved view: its filter, grouping and card fields), ``filter`` (the engine's compact syntax).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from litestar import Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template
from markupsafe import Markup

from app.crm import board, query, records, views
from app.crm.fields import FieldDefinition, FieldType, RecordInvalid
from app.crm.metadata import ObjectDefinition
from app.crm.pages.dashboard import Dashboard, toast
from app.crm.pages.list_query import parse_filter_text, to_compact, with_viewer
from app.crm.pages.present import (
    field_label,
    object_label,
    option_label,
    record_title,
    related_titles,
    show,
    title_fields,
)
from app.lib.i18n import format_money, format_number
from app.lib.i18n import gettext as _

__all__ = ["KANBAN_ROUTES"]

CARDS_PER_COLUMN = 50
_CARD_FIELDS = 3
_NOT_ON_CARDS = (FieldType.RICH_TEXT, FieldType.JSON)


@dataclass(frozen=True)
class Card:
    id: str
    title: str
    url: str
    move_url: str
    fields: list[tuple[str, Markup]]
    """(label, shown value) of the card's fields that have a value."""


@dataclass
class Column:
    value: str | None
    label: str
    color: str
    count: int = 0
    count_text: str = ""
    sum_text: str = ""
    cards: list[Card] = field(default_factory=list)
    more_url: str | None = None

    @property
    def key(self) -> str:
        """The value as the page and the move endpoint write it ("" for the column of empty values)."""
        return self.value or ""


@dataclass
class BoardPage:
    obj: ObjectDefinition
    group: FieldDefinition | None
    select_fields: list[FieldDefinition]
    view: dict[str, Any] | None
    views: list[dict[str, Any]]
    filter_text: str
    filter_given: bool
    card_fields: list[FieldDefinition]
    columns: list[Column] = field(default_factory=list)
    error: str | None = None
    base: str = ""

    def params(self, **changes: str | None) -> dict[str, str]:
        values: dict[str, str | None] = {
            "field": self.group.name if self.group is not None else None,
            "view": self.view["id"] if self.view is not None else None,
            "filter": self.filter_text if self.filter_given else None,
        }
        values.update(changes)
        return {key: value for key, value in values.items() if value is not None}

    def url(self, **changes: str | None) -> str:
        query_string = urlencode(self.params(**changes))
        return self.base + "/board" + ("?" + query_string if query_string else "")

    @property
    def list_url(self) -> str:
        params = {"filter": self.filter_text} if self.filter_text else {}
        return self.base + ("?" + urlencode(params) if params else "")

    @property
    def has_money(self) -> bool:
        return board.money_field(self.obj) is not None


def _sum_text(summary: board.ColumnSummary | None, language: str) -> str:
    if summary is None or not summary.sums:
        return format_money(0, "SAR", language)
    return " + ".join(format_money(total, currency, language) for currency, total in sorted(summary.sums.items()))


def _view_filter_text(view: dict[str, Any] | None) -> str:
    if view is None or view.get("filter") is None:
        return ""
    try:
        return to_compact(query.parse_filter_json(view["filter"]))
    except query.QueryError:
        return ""


async def _board_page(
    dashboard: Dashboard, obj: ObjectDefinition, *, field_name: str | None, view: str | None, filter: str | None
) -> BoardPage:
    saved = await views.shown_views(dashboard.connection, dashboard.catalogue, obj.name, dashboard.member.user_id)
    chosen: dict[str, Any] | None = None
    if view:
        chosen = next((item for item in saved if item["id"] == view), None)
        if chosen is None:
            raise NotFoundException("No such view.")
    elif not field_name:
        chosen = next((item for item in saved if item["kind"] == "kanban" and item["is_default"]), None)
    selects = [f for f in obj.fields if f.type == FieldType.SELECT]
    if field_name:
        group = obj.field(field_name)
    else:
        preferred = (chosen or {}).get("group_by") or "stage"
        group = next((f for f in selects if f.name == preferred), selects[0] if selects else None)
    titles = title_fields(obj)
    names = list((chosen or {}).get("columns") or [])
    candidates = [obj.field(n) for n in names] if names else [f for f in obj.fields if f.type not in _NOT_ON_CARDS]
    card_fields = [f for f in candidates if f is not None and f not in titles and f != group][:_CARD_FIELDS]
    page = BoardPage(
        obj=obj,
        group=group,
        select_fields=selects,
        view=chosen,
        views=[item for item in saved if item["kind"] == "kanban"],
        filter_text=filter if filter is not None else _view_filter_text(chosen),
        filter_given=filter is not None,
        card_fields=card_fields,
        base=dashboard.url("o", obj.name),
    )
    if field_name and (group is None or group.type != FieldType.SELECT):
        page.group = None
        page.error = _("%(field)s is not a select field of %(object)s.") % {
            "field": field_name,
            "object": object_label(obj, dashboard.language),
        }
    return page


def _filter(dashboard: Dashboard, text: str) -> query.Filter | None:
    parsed = parse_filter_text(text) if text.strip() else None
    return None if parsed is None else with_viewer(parsed, str(dashboard.member.user_id))


async def _cards(
    dashboard: Dashboard, page: BoardPage, cards_by_value: dict[str | None, list[dict[str, Any]]]
) -> dict[str | None, list[Card]]:
    obj, language = page.obj, dashboard.language
    every = [record for cards in cards_by_value.values() for record in cards]
    shown = [{f.name: record.get(f.name) for f in page.card_fields} for record in every]
    titles = await related_titles(dashboard.connection, dashboard.catalogue, obj, shown, language)
    base = dashboard.url("o", obj.name)
    result: dict[str | None, list[Card]] = {}
    for value, cards in cards_by_value.items():
        result[value] = [
            Card(
                id=record["id"],
                title=record_title(obj, record, language),
                url=f"{base}/{record['id']}",
                move_url=f"{base}/{record['id']}/move",
                fields=[
                    (field_label(f, language), show(f, record.get(f.name), language, titles=titles))
                    for f in page.card_fields
                    if record.get(f.name) not in (None, "", [])
                ],
            )
            for record in cards
        ]
    return result


async def _fill(dashboard: Dashboard, page: BoardPage) -> None:
    """The columns of the board, their counts and sums, and the first cards of each."""
    group = page.group
    if group is None or page.error:
        return
    language = dashboard.language
    try:
        parsed = _filter(dashboard, page.filter_text)
        summaries = await board.column_summaries(dashboard.connection, page.obj, group, parsed)
    except query.QueryError as error:
        page.error = _("This filter cannot be used: %(reason)s") % {"reason": str(error)}
        return
    known = [option.value for option in group.options]
    values: list[str | None] = [*known, *(v for v in summaries if v is not None and v not in known)]
    if None in summaries:
        values.append(None)
    found = await board.column_cards(dashboard.connection, page.obj, group, values, parsed, limit=CARDS_PER_COLUMN)
    cards = await _cards(dashboard, page, found)
    colors = {option.value: str(option.color) for option in group.options}
    for value in values:
        summary = summaries.get(value)
        count = summary.count if summary else 0
        column = Column(
            value=value,
            label=option_label(group, value, language) if value is not None else _("No value"),
            color=colors.get(value or "", "gray"),
            count=count,
            count_text=format_number(count, language),
            sum_text=_sum_text(summary, language) if page.has_money else "",
            cards=cards.get(value, []),
        )
        if count > len(column.cards):
            column.more_url = (
                page.base + "/board/cards?" + urlencode(page.params(value=column.key, offset=str(len(column.cards))))
            )
        page.columns.append(column)


def _render(dashboard: Dashboard, page: BoardPage, template: str = "crm/board.html", **extra: Any) -> Template:
    obj = page.obj
    response = dashboard.page(
        template,
        status_code=400 if page.error else 200,
        obj=obj,
        board=page,
        object_plural=object_label(obj, dashboard.language),
        object_singular=object_label(obj, dashboard.language, plural=False),
        field_label=field_label,
        option_label=option_label,
        **extra,
    )
    if page.error:
        toast(response, page.error, "error")
    return response


@get("/o/{object_name:str}/board", name="object-board", cache=False)
async def object_board(
    dashboard: NamedDependency[Dashboard],
    object_name: FromPath[str],
    field: FromQuery[str | None] = None,
    view: FromQuery[str | None] = None,
    filter: FromQuery[str | None] = None,
) -> Template:
    obj = dashboard.object(object_name)
    page = await _board_page(dashboard, obj, field_name=field, view=view, filter=filter)
    await _fill(dashboard, page)
    return _render(dashboard, page)


@get("/o/{object_name:str}/board/cards", name="object-board-cards", cache=False)
async def board_cards(
    dashboard: NamedDependency[Dashboard],
    object_name: FromPath[str],
    value: FromQuery[str] = "",
    offset: FromQuery[int] = 0,
    field: FromQuery[str | None] = None,
    view: FromQuery[str | None] = None,
    filter: FromQuery[str | None] = None,
) -> Template:
    """More cards of one column (its "show more" button): the cards, then the next button if any."""
    obj = dashboard.object(object_name)
    page = await _board_page(dashboard, obj, field_name=field, view=view, filter=filter)
    if page.group is None or page.error:
        raise NotFoundException("No such board.")
    column_value = value or None
    offset = max(0, offset)
    try:
        parsed = _filter(dashboard, page.filter_text)
    except query.QueryError as error:
        page.error = str(error)
        return _render(dashboard, page, "crm/_board_more.html", cards=[], more_url=None)
    found = await board.column_cards(
        dashboard.connection, obj, page.group, [column_value], parsed, limit=CARDS_PER_COLUMN, offset=offset
    )
    cards = (await _cards(dashboard, page, found)).get(column_value, [])
    more_url = None
    if len(cards) == CARDS_PER_COLUMN:
        more_url = page.base + "/board/cards?" + urlencode(page.params(value=value, offset=str(offset + len(cards))))
    group = page.group
    page.columns = [
        Column(value=option.value, label=option_label(group, option.value, dashboard.language), color=option.color)
        for option in group.options
    ]
    if column_value is None:
        page.columns.append(Column(value=None, label=_("No value"), color="gray"))
    column = Column(value=column_value, label="", color="gray")
    return _render(dashboard, page, "crm/_board_more.html", cards=cards, more_url=more_url, column=column)


def _uuid_or_none(raw: Any) -> uuid.UUID | None:
    text = str(raw or "").strip()
    return uuid.UUID(text) if text else None


def _problem(message: str, status_code: int) -> Response[Any]:
    return Response({"status_code": status_code, "detail": message}, status_code=status_code)


@post("/o/{object_name:str}/{record_id:uuid}/move", name="object-board-move", cache=False)
async def move_card(
    request: HTMXRequest,
    dashboard: NamedDependency[Dashboard],
    object_name: FromPath[str],
    record_id: FromPath[uuid.UUID],
) -> Response[Any]:
    """Form fields ``field``, ``value`` ("" empties it), ``after`` / ``before`` (the neighbours' ids where the
    card was put, or empty), and optionally ``filter`` / ``view`` of the board, for its columns' new counts."""
    obj = dashboard.object(object_name)
    form: FormMultiDict = await request.form()
    field_name = str(form.get("field") or "")
    value = str(form.get("value") or "") or None
    try:
        after, before = _uuid_or_none(form.get("after")), _uuid_or_none(form.get("before"))
    except ValueError:
        return _problem(_("The card's neighbours are not valid."), 400)
    try:
        moved = await records.move_record(
            dashboard.connection, obj, record_id, field_name, value, dashboard.actor, after=after, before=before
        )
    except RecordInvalid as invalid:
        target = obj.field(field_name)
        label = field_label(target, dashboard.language) if target is not None else field_name
        reason = "; ".join(invalid.errors.values())
        return _problem(_("The card cannot go there: %(field)s %(reason)s") % {"field": label, "reason": reason}, 400)
    except records.RecordNotFound:
        return _problem(_("This record no longer exists. Reload the board."), 404)
    group = obj.field(field_name)
    assert group is not None
    counts: dict[str, dict[str, str]] = {}
    try:
        page = await _board_page(
            dashboard,
            obj,
            field_name=field_name,
            view=str(form.get("view") or "") or None,
            filter=str(form["filter"]) if "filter" in form else None,
        )
        summaries = await board.column_summaries(dashboard.connection, obj, group, _filter(dashboard, page.filter_text))
        for column_value, summary in summaries.items():
            counts[column_value or ""] = {
                "count": format_number(summary.count, dashboard.language),
                "sum": _sum_text(summary, dashboard.language) if page.has_money else "",
            }
    except (query.QueryError, NotFoundException):
        counts = {}
    label = option_label(group, value, dashboard.language) if value else _("No value")
    return Response(
        {
            "id": moved["id"],
            "field": group.name,
            "value": value or "",
            "position": moved["position"],
            "message": _("Moved to %(column)s.") % {"column": label},
            "columns": counts,
            "zero": format_number(0, dashboard.language),
            "zero_sum": _sum_text(None, dashboard.language) if board.money_field(obj) is not None else "",
        },
        status_code=200,
    )


KANBAN_ROUTES: list[Any] = [object_board, board_cards, move_card]
