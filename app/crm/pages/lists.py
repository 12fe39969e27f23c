"""The list of any object (``/t/{slug}/o/{object}``): a table driven by the catalogue, so custom objects and fields
appear without new code. Filters, sorts, columns and keyset pages live in the URL (deep links, back/forward);
saved views (app/crm/views.py) are starting points that the URL refines. Bulk actions, saving and deleting views
re-render only what changed.

URL: ``view`` (saved view id), ``filter`` (the engine's compact syntax), ``sort`` (``field:desc,...``),
``columns`` (comma list), ``cursor`` (next pages) / ``before`` (previous pages). The filter builder and the column
chooser submit friendlier fields (``ff``/``fo``/``fv`` rows, ``col`` checkboxes) and are redirected to that URL.
"""

from __future__ import annotations

import contextlib
import secrets
import uuid
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

from litestar import get, post
from litestar.datastructures import FormMultiDict
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Response, Template
from litestar.utils.empty import value_or_default
from litestar.utils.scope.state import ScopeState
from markupsafe import Markup, escape

from app.crm import query, records, views
from app.crm.fields import FieldDefinition, FieldType, RecordInvalid, column_names
from app.crm.metadata import ObjectDefinition
from app.crm.pages.dashboard import Dashboard, toast
from app.crm.pages.list_data import COUNT_CAP, ListPage, count_up_to, fetch_list_page
from app.crm.pages.list_query import (
    BUILDER_OPS,
    BuilderField,
    BuilderRow,
    builder_fields,
    compose_filter,
    decompose_filter,
    default_columns,
    filter_to_json,
    parse_filter_text,
    shown_columns,
    sort_name,
    sorts_from_json,
    sorts_to_json,
    sorts_to_text,
    to_compact,
    with_viewer,
)
from app.crm.pages.list_rows import ROWS_REMEMBERED, row_reader
from app.crm.pages.present import (
    Shower,
    field_label,
    object_label,
    option_label,
    record_title,
    related_titles,
    shower,
    title_fields,
)
from app.lib.i18n import format_number, ngettext
from app.lib.i18n import gettext as _
from app.lib.remembered import Remembered

__all__ = ["LIST_ROUTES"]

_ROWS_TARGET = "list-rows"
"""The table body: "next page" swaps only it (and the pager, out of band)."""


# --- what the URL asks for ---------------------------------------------------------------------------------------


@dataclass
class ListState:
    """The list as the URL (and the saved view it starts from) describes it."""

    obj: ObjectDefinition
    base: str
    view: dict[str, Any] | None
    view_given: bool
    filter_text: str
    filter_given: bool
    sort_text: str
    sort_given: bool
    columns: list[str]
    columns_given: bool
    cursor: str | None = None
    before: str | None = None

    def params(self, **changes: str | None) -> dict[str, str]:
        """The query of this list's URL with ``changes`` (None drops a parameter); paging is dropped unless
        given, since a new filter or sort starts at the first page."""
        values: dict[str, str | None] = {
            "view": self.view["id"] if self.view is not None and self.view_given else None,
            "filter": self.filter_text if self.filter_given else None,
            "sort": self.sort_text if self.sort_given else None,
            "columns": ",".join(self.columns) if self.columns_given else None,
        }
        values.update(changes)
        return {key: value for key, value in values.items() if value is not None}

    def url(self, **changes: str | None) -> str:
        query_string = urlencode(self.params(**changes))
        return self.base + ("?" + query_string if query_string else "")

    @property
    def here(self) -> str:
        return self.url(cursor=self.cursor, before=self.before)

    @property
    def saved_columns(self) -> str:
        """The columns as a saved view or an export keeps them: the title's fields (always the first column
        here), then the chosen ones."""
        return ",".join([*(field.name for field in title_fields(self.obj)), *self.columns])

    @property
    def modified(self) -> bool:
        """The URL changes the saved view (filter, sort or columns)."""
        return self.view is not None and (self.filter_given or self.sort_given or self.columns_given)


def _view_filter_text(view: dict[str, Any]) -> str:
    raw = view.get("filter")
    if raw is None:
        return ""
    try:
        return to_compact(query.parse_filter_json(raw))
    except query.QueryError:
        return ""


async def _state(
    dashboard: Dashboard,
    obj: ObjectDefinition,
    *,
    view: str | None,
    filter: str | None,
    sort: str | None,
    columns: str | None,
    cursor: str | None = None,
    before: str | None = None,
) -> tuple[ListState, list[dict[str, Any]]]:
    """The list's state and the object's saved views (shared ones and the viewer's own)."""
    saved = await views.shown_views(dashboard.connection, dashboard.catalogue, obj.name, dashboard.member.user_id)
    chosen: dict[str, Any] | None = None
    if view:
        chosen = next((item for item in saved if item["id"] == view), None)
        if chosen is None:
            raise NotFoundException("No such view.")
    else:
        chosen = next((item for item in saved if item["is_default"] and item["kind"] == "table"), None)
    filter_text = filter if filter is not None else (_view_filter_text(chosen) if chosen else "")
    if sort is not None:
        sort_text = sort
    elif chosen is not None:
        sort_text = sorts_to_text(sorts_from_json(chosen["sorts"]))
    else:
        sort_text = "created_at:desc"
    if columns is not None:
        names = [name.strip() for name in columns.split(",") if name.strip()]
    elif chosen is not None and chosen["columns"]:
        names = list(chosen["columns"])
    else:
        names = default_columns(obj)
    state = ListState(
        obj=obj,
        base=dashboard.url("o", obj.name),
        view=chosen,
        view_given=bool(view),
        filter_text=filter_text,
        filter_given=filter is not None,
        sort_text=sort_text,
        sort_given=sort is not None,
        columns=[column.name for column in shown_columns(obj, names)],
        columns_given=columns is not None,
        cursor=cursor or None,
        before=before or None,
    )
    return state, saved


# --- what the page shows -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Header:
    field: FieldDefinition | None
    label: str
    sort_url: str | None
    direction: str | None
    """"ascending"/"descending" when the list is sorted by this column (aria-sort)."""


@dataclass(frozen=True)
class Row:
    id: str
    title: str
    url: str
    html: Markup
    """The whole ``<tr>`` (see `_row_html`)."""


def _cell_openings(columns: list[FieldDefinition]) -> list[str]:
    """Each column's ``<td>``. A cell is also the inline-edit slot of its field: on a double-click, or Enter in it
    outside its edit form, static/js/table.js asks ``<row's record URL>/fields/<field>/edit`` (the record pages
    answer the slot's inner HTML) and swaps the answer in. Nothing about that is spelled out in the cells: a page
    has hundreds of them."""
    return [f'<td data-field-slot data-field="{escape(column.name)}" tabindex="0">' for column in columns]


def _row_html(
    record_id: str, record_url: Markup, title: str, select_label: str, cells: list[tuple[str, Markup]]
) -> Markup:
    """A table row: its select box, its title and its cells (each: its opening, see `_cell_openings`, and the value
    shown). Built here rather than in the template: a page has hundreds of cells, and joining already-escaped parts
    is several times cheaper than escaping each. ``record_url`` is escaped already."""
    row_id = escape(record_id)
    parts = [
        f'\n<tr data-row="{row_id}" data-record-url="{record_url}">\n  <td class="select-cell"><input type="checkbox" '
        f'name="ids" value="{row_id}" form="bulk-form" data-row-select aria-label="{escape(select_label)}"></td>\n'
        f'  <th scope="row" class="title-cell"><a href="{record_url}" dir="auto">{escape(title)}</a></th>'
    ]
    for opening, shown in cells:
        parts += ("\n  ", opening, shown, "</td>")  # never str + Markup: that escapes the str
    parts.append("\n</tr>")
    return Markup("".join(parts))  # noqa: S704 - every part is escaped


@dataclass(frozen=True)
class ListTools:
    """What a list's tools offer for an object, in one language: made once per process for each object definition
    (a changed object is a new definition) and language, and shared by every list page of it."""

    fields: tuple[BuilderField, ...]
    """The fields the filter builder offers."""
    field_choices: tuple[tuple[str, str, str, str], ...]
    """The filter builder's fields: (name, label, its operators joined by spaces, id of its options' datalist)."""
    datalists: tuple[tuple[str, tuple[str, ...]], ...]
    """(id, option labels) of the select fields the builder offers."""
    select_fields: tuple[FieldDefinition, ...]
    choosable: tuple[FieldDefinition, ...]
    """Fields the column chooser offers (the title's fields are always the first column)."""


_TOOLS_REMEMBERED = 1000
_remembered_tools: Remembered[ListTools] = Remembered(_TOOLS_REMEMBERED)


def list_tools(obj: ObjectDefinition, language: str) -> ListTools:
    tools = _remembered_tools.get(obj, language)
    if tools is None:
        fields = tuple(builder_fields(obj, language))
        choices, datalists = [], []
        for item in fields:
            labels = tuple(label for _value, label in item.options(language))
            list_id = f"filter-options-{item.name}" if labels else ""
            choices.append((item.name, item.label, " ".join(item.ops), list_id))
            if labels:
                datalists.append((list_id, labels))
        titled = title_fields(obj)
        tools = ListTools(
            fields=fields,
            field_choices=tuple(choices),
            datalists=tuple(datalists),
            select_fields=tuple(f for f in obj.fields if f.type == FieldType.SELECT),
            choosable=tuple(f for f in obj.fields if f not in titled),
        )
        _remembered_tools.put(obj, language, tools)
    return tools


@dataclass
class ListView:
    state: ListState
    views: list[dict[str, Any]]
    headers: list[Header]
    tools: ListTools
    rows: list[Row] = field(default_factory=list)
    page: ListPage | None = None
    count_text: str | None = None
    error: str | None = None
    builder_rows: list[BuilderRow] | None = None
    board_url: str | None = None

    @property
    def rows_html(self) -> Markup:
        """Every row's ``<tr>``, joined once: a template printing 50 of them would copy each through escape()."""
        return Markup("".join(row.html for row in self.rows))  # noqa: S704 - each row is escaped (`_row_html`)

    @property
    def next_url(self) -> str | None:
        return self.state.url(cursor=self.page.next_cursor) if self.page and self.page.next_cursor else None

    @property
    def previous_url(self) -> str | None:
        if self.page is None or self.page.previous_cursor is None:
            return None
        return self.state.url(before=self.page.previous_cursor)

    @property
    def first_url(self) -> str | None:
        return self.state.url() if self.state.cursor or self.state.before else None

    @property
    def count_url(self) -> str:
        params = {"view": self.view_id} if self.view_id else {}
        if self.state.filter_given:
            params["filter"] = self.state.filter_text
        return self.state.base + "/count?" + urlencode(params)

    @property
    def view_id(self) -> str:
        return str(self.state.view["id"]) if self.state.view is not None else ""


_HEADERS_REMEMBERED = 1000
_remembered_headers: Remembered[tuple[Header, ...]] = Remembered(_HEADERS_REMEMBERED)


def _headers(dashboard: Dashboard, state: ListState, columns: list[FieldDefinition]) -> list[Header]:
    """The table's column headers with their sort links, made once per process for what they depend on."""
    key = (
        state.base,
        tuple(state.params().items()),
        state.sort_text,
        tuple(column.name for column in columns),
        dashboard.language,
    )
    headers = _remembered_headers.get(state.obj, key)
    if headers is None:
        headers = tuple(_make_headers(dashboard, state, columns))
        _remembered_headers.put(state.obj, key, headers)
    return list(headers)


def _make_headers(dashboard: Dashboard, state: ListState, columns: list[FieldDefinition]) -> list[Header]:
    sorts: tuple[query.Sort, ...] = ()
    with contextlib.suppress(query.QueryError):
        sorts = query.parse_sorts(state.sort_text)
    first = sorts[0] if sorts else None
    titles = title_fields(state.obj)
    headers: list[Header] = []
    for column in [titles[0] if titles else None, *columns]:
        name = sort_name(column) if column is not None else None
        label = field_label(column, dashboard.language) if column is not None else _("Name")
        if column is not None and column in titles:
            label = _("Name") if len(titles) > 1 else label
        direction = None
        sort_url = None
        if name is not None:
            current = first is not None and first.field == name
            if current:
                assert first is not None
                direction = "descending" if first.direction is query.Direction.DESC else "ascending"
            next_sort = f"{name}:desc" if current and direction == "ascending" else name
            sort_url = state.url(sort=next_sort)
        headers.append(Header(column, label, sort_url, direction))
    return headers


async def _list_view(dashboard: Dashboard, state: ListState, saved: list[dict[str, Any]]) -> ListView:
    obj = state.obj
    language = dashboard.language
    columns = shown_columns(obj, state.columns)
    listing = ListView(
        state=state, views=saved, headers=_headers(dashboard, state, columns), tools=list_tools(obj, language)
    )
    if listing.tools.select_fields:
        board = dashboard.url("o", obj.name, "board")
        listing.board_url = board + ("?" + urlencode({"filter": state.filter_text}) if state.filter_text else "")
    parsed: query.Filter | None = None
    try:
        parsed = parse_filter_text(state.filter_text) if state.filter_text.strip() else None
        listing.builder_rows = decompose_filter(parsed, listing.tools.fields, language)
        sorts = query.parse_sorts(state.sort_text)
        viewer = str(dashboard.member.user_id)
        listing.page = await fetch_list_page(
            dashboard.connection,
            obj,
            fields=[*title_fields(obj), *columns],
            filter=None if parsed is None else with_viewer(parsed, viewer),
            sorts=sorts,
            after=state.cursor,
            before=state.before,
        )
    except query.QueryError as error:
        listing.error = str(error)
        return listing
    page = listing.page
    listing.rows = await _rows(dashboard, obj, columns, page)
    if state.cursor is None and state.before is None and page.next_cursor is None:
        listing.count_text = _count_text(len(page.rows), language)
    return listing


_remembered_rows: Remembered[Row] = Remembered(ROWS_REMEMBERED)


async def _rows(
    dashboard: Dashboard, obj: ObjectDefinition, columns: list[FieldDefinition], page: ListPage
) -> list[Row]:
    """The page's rows, each rendered unless this process rendered the same one before (app/crm/pages/list_rows.py)."""
    language = dashboard.language
    base = dashboard.url("o", obj.name)
    relations = [(column.name, column_names(column)[0]) for column in columns if column.type == FieldType.RELATION]
    linking = [
        {name: row[column] for name, column in relations}
        for row in page.rows
        if any(row[column] is not None for _name, column in relations)
    ]
    titles = await related_titles(dashboard.connection, dashboard.catalogue, obj, linking, language) if linking else {}
    # One string, hashed once for the whole page, rather than a tuple hashed again for every row.
    layout = "\x1f".join([*(column.name for column in columns), base, language])
    values_of = row_reader(obj, page.fields)
    shows: list[tuple[str, str, Shower]] | None = None
    rows: list[Row] = []
    for number, raw in enumerate(page.rows):
        # The key holds the related records' ids (among the values); their titles only where the page has any.
        shown_titles = tuple(titles.get(str(raw[column])) for _name, column in relations) if titles else ()
        key = (layout, values_of(raw), shown_titles)
        row = _remembered_rows.get(obj, key)
        if row is None:
            if shows is None:
                shows = [
                    (opening, column.name, shower(column, language, titles=titles))
                    for opening, column in zip(_cell_openings(columns), columns, strict=True)
                ]
            row = _render_row(obj, page.records[number], base, language, shows)
            _remembered_rows.put(obj, key, row)
        rows.append(row)
    return rows


def _render_row(
    obj: ObjectDefinition, record: dict[str, Any], base: str, language: str, shows: list[tuple[str, str, Shower]]
) -> Row:
    record_url = f"{base}/{record['id']}"
    title = record_title(obj, record, language)
    cells = [(opening, show(record.get(key))) for opening, key, show in shows]
    select_label = _("Select %(name)s") % {"name": title}
    return Row(
        id=record["id"],
        title=title,
        url=record_url,
        html=_row_html(record["id"], escape(record_url), title, select_label, cells),
    )


def _count_text(count: int, language: str) -> str:
    if count > COUNT_CAP:
        return _("%(count)s+ records") % {"count": format_number(COUNT_CAP, language)}
    return ngettext("%(count)s record", "%(count)s records", count) % {"count": format_number(count, language)}


def _op_labels() -> dict[str, str]:
    return {
        "eq": _("is"),
        "neq": _("is not"),
        "contains": _("contains"),
        "starts_with": _("starts with"),
        "gt": _("is greater than"),
        "gte": _("is at least"),
        "lt": _("is less than"),
        "lte": _("is at most"),
        "in": _("is one of"),
        "empty": _("is empty"),
        "not_empty": _("is not empty"),
    }


_CONTROLS_REMEMBERED = 1000
_remembered_controls: Remembered[Markup] = Remembered(_CONTROLS_REMEMBERED)


def _list_controls(dashboard: Dashboard, listing: ListView) -> Markup:
    """The saved views and the list's tools (templates/crm/_list_controls.html), rendered once per process for
    everything they show; the catalogue, which carries the views, is their owner."""
    state = listing.state
    csrf_token = value_or_default(ScopeState.from_scope(dashboard.request.scope).csrf_token, "")
    key = (
        state.obj.name,
        dashboard.language,
        tuple(state.params().items()),
        dashboard.member.user_id,
        dashboard.can_manage,
        csrf_token,
        listing.error,
    )
    html = _remembered_controls.get(dashboard.catalogue, key)
    if html is None:
        html = dashboard.render_fragment(
            "crm/_list_controls.html",
            obj=state.obj,
            language=dashboard.language,
            state=replace(state, cursor=None, before=None),
            views=listing.views,
            builder_rows=listing.builder_rows,
            field_choices=listing.tools.field_choices,
            datalists=listing.tools.datalists,
            choosable=listing.tools.choosable,
            error=listing.error,
            can_manage=dashboard.can_manage,
            board_base=dashboard.url("o", state.obj.name, "board"),
            csrf_input=_csrf_input(csrf_token),
            builder_ops=BUILDER_OPS,
            op_labels=_op_labels(),
            field_label=field_label,
        )
        _remembered_controls.put(dashboard.catalogue, key, html)
    return html


_CONTENTS_REMEMBERED = 200
_remembered_contents: Remembered[tuple[Markup, Markup]] = Remembered(_CONTENTS_REMEMBERED)
"""A list page's content before and after its rows: some 17 KB each."""
_ROWS_MARK = f"\x00rows {secrets.token_hex(8)}\x00"
"""Where the rows go in the content as rendered to be remembered (no value on a page can hold it)."""


def _list_content(dashboard: Dashboard, listing: ListView) -> tuple[Markup, Markup]:
    """What the list page shows below the frame, before and after its rows (templates/crm/_list_content.html):
    rendered once per process for everything it shows (its header, saved views and tools, bulk bar, column headers
    and pager) and remembered; only the rows are new on every page. The catalogue, which carries the views, is
    the owner."""
    state, page = listing.state, listing.page
    csrf_token = value_or_default(ScopeState.from_scope(dashboard.request.scope).csrf_token, "")
    key = (
        dashboard.tenant.slug,
        state.obj.name,
        dashboard.language,
        tuple(state.params(cursor=state.cursor, before=state.before).items()),
        dashboard.member.user_id,
        dashboard.can_manage,
        csrf_token,
        listing.error,
        listing.count_text,
        bool(listing.rows),
        page.next_cursor if page is not None else None,
        page.previous_cursor if page is not None else None,
    )
    found = _remembered_contents.get(dashboard.catalogue, key)
    if found is None:
        marker = Row(id="", title="", url="", html=Markup(_ROWS_MARK))  # noqa: S704 - a constant
        marked = replace(listing, rows=[marker]) if listing.rows else listing
        html = dashboard.render_fragment(
            "crm/_list_content.html",
            **_context(dashboard, marked),
            dashboard=dashboard,
            language=dashboard.language,
            list_controls=_list_controls(dashboard, listing),
            csrf_input=_csrf_input(csrf_token),
        )
        head, _mark, tail = html.partition(_ROWS_MARK)
        found = (Markup(head), Markup(tail))  # noqa: S704 - parts of a rendered template
        _remembered_contents.put(dashboard.catalogue, key, found)
    return found


def _context(dashboard: Dashboard, listing: ListView) -> dict[str, Any]:
    obj = listing.state.obj
    return {
        "obj": obj,
        "listing": listing,
        "state": listing.state,
        "object_plural": object_label(obj, dashboard.language),
        "object_singular": object_label(obj, dashboard.language, plural=False),
        "option_label": option_label,
        "field_label": field_label,
    }


def _csrf_input(csrf_token: str) -> Markup:
    """The form field a template rendered here carries (Litestar adds ``csrf_input`` only to the page's own context)."""
    return Markup(f'<input type="hidden" name="_csrf_token" value="{escape(csrf_token)}" />')  # noqa: S704 - escaped


def _render(dashboard: Dashboard, listing: ListView, template: str = "crm/list.html") -> Template:
    status_code = 400 if listing.error else 200
    if template != "crm/list.html":
        return dashboard.page(template, status_code=status_code, **_context(dashboard, listing))
    head, tail = _list_content(dashboard, listing)
    return dashboard.page(
        template,
        status_code=status_code,
        listing=listing,
        object_plural=object_label(listing.state.obj, dashboard.language),
        list_head=head,
        list_tail=tail,
    )


def _error_toast(response: Template, listing: ListView) -> Template:
    if listing.error:
        toast(response, _("This filter cannot be used: %(reason)s") % {"reason": listing.error}, "error")
    return response


# --- routes ------------------------------------------------------------------------------------------------------


@get("/o/{object_name:str}", name="object-list", cache=False)
async def object_list(
    request: HTMXRequest,
    dashboard: NamedDependency[Dashboard],
    object_name: FromPath[str],
    view: FromQuery[str | None] = None,
    filter: FromQuery[str | None] = None,
    sort: FromQuery[str | None] = None,
    columns: FromQuery[str | None] = None,
    cursor: FromQuery[str | None] = None,
    before: FromQuery[str | None] = None,
    ff: FromQuery[list[str] | None] = None,
    fo: FromQuery[list[str] | None] = None,
    fv: FromQuery[list[str] | None] = None,
    col: FromQuery[list[str] | None] = None,
) -> Template | Redirect:
    obj = dashboard.object(object_name)
    if ff is not None or col is not None:
        return _canonical(
            dashboard, obj, view=view, filter=filter, sort=sort, columns=columns, ff=ff, fo=fo, fv=fv, col=col
        )
    state, saved = await _state(
        dashboard, obj, view=view, filter=filter, sort=sort, columns=columns, cursor=cursor, before=before
    )
    listing = await _list_view(dashboard, state, saved)
    if request.htmx and request.htmx.target == _ROWS_TARGET and not listing.error:
        return _render(dashboard, listing, "crm/_list_rows.html")
    return _error_toast(_render(dashboard, listing), listing)


def _canonical(
    dashboard: Dashboard,
    obj: ObjectDefinition,
    *,
    view: str | None,
    filter: str | None,
    sort: str | None,
    columns: str | None,
    ff: list[str] | None,
    fo: list[str] | None,
    fv: list[str] | None,
    col: list[str] | None,
) -> Redirect:
    """The filter builder's rows and the column chooser's boxes, as the list's own URL."""
    if ff is not None:
        ops, values = list(fo or []), list(fv or [])
        rows = [
            BuilderRow(name, ops[index] if index < len(ops) else "eq", values[index] if index < len(values) else "")
            for index, name in enumerate(ff)
        ]
        filter = compose_filter(rows, list_tools(obj, dashboard.language).fields, dashboard.timezone)
    if col is not None:
        columns = ",".join(col)
    params = {"view": view or None, "filter": filter, "sort": sort, "columns": columns}
    query_string = urlencode({key: value for key, value in params.items() if value is not None})
    return Redirect(dashboard.url("o", obj.name) + ("?" + query_string if query_string else ""), status_code=303)


@get("/o/{object_name:str}/count", name="object-list-count", cache=False)
async def object_list_count(
    dashboard: NamedDependency[Dashboard],
    object_name: FromPath[str],
    view: FromQuery[str | None] = None,
    filter: FromQuery[str | None] = None,
) -> Response[str]:
    """How many records the list has (up to 10,000): asked for after the page is shown, never before."""
    obj = dashboard.object(object_name)
    state, _saved = await _state(dashboard, obj, view=view, filter=filter, sort=None, columns=None)
    try:
        parsed = parse_filter_text(state.filter_text) if state.filter_text.strip() else None
        count = await count_up_to(
            dashboard.connection, obj, None if parsed is None else with_viewer(parsed, str(dashboard.member.user_id))
        )
    except query.QueryError:
        return Response("", media_type="text/html")
    return Response(str(Markup("{}").format(_count_text(count, dashboard.language))), media_type="text/html")


async def _form(request: HTMXRequest) -> FormMultiDict:
    form: FormMultiDict = await request.form()
    return form


def _state_from_form(form: FormMultiDict) -> dict[str, str | None]:
    def given(name: str) -> str | None:
        value = form.get(name)
        return None if value is None else str(value)

    return {
        "view": given("view") or None,
        "filter": given("filter"),
        "sort": given("sort"),
        "columns": given("columns"),
        "cursor": given("cursor") or None,
        "before": given("before") or None,
    }


def _selected_ids(form: FormMultiDict) -> list[uuid.UUID]:
    ids: list[uuid.UUID] = []
    for raw in form.getall("ids", []):
        try:
            ids.append(uuid.UUID(str(raw)))
        except ValueError:
            continue
    return list(dict.fromkeys(ids))


async def _region(dashboard: Dashboard, obj: ObjectDefinition, form: FormMultiDict, status_code: int = 200) -> Template:
    """The table region again (rows, pager, bulk bar), as the form's list state describes it."""
    given = _state_from_form(form)
    state, saved = await _state(dashboard, obj, **given)
    listing = await _list_view(dashboard, state, saved)
    if listing.page is not None and not listing.rows and (state.cursor or state.before):
        state.cursor = state.before = None  # the page emptied itself: show the first one
        listing = await _list_view(dashboard, state, saved)
    response = _render(dashboard, listing, "crm/_list_region_update.html")
    response.status_code = status_code
    return response


def _refused(message: str, status_code: int = 400) -> Response[Any]:
    response: Response[Any] = Response(
        {"status_code": status_code, "detail": message}, status_code=status_code, media_type="application/json"
    )
    return toast(response, message, "error")


@post("/o/{object_name:str}/bulk/delete", name="object-list-bulk-delete", cache=False)
async def bulk_delete(
    request: HTMXRequest, dashboard: NamedDependency[Dashboard], object_name: FromPath[str]
) -> Response[Any]:
    obj = dashboard.object(object_name)
    form = await _form(request)
    ids = _selected_ids(form)
    if not ids:
        return _refused(_("Select at least one record."))
    if len(ids) > records.MAX_BATCH:
        return _refused(_("Select at most %(n)s records at a time.") % {"n": records.MAX_BATCH})
    try:
        await records.delete_records(dashboard.connection, obj, ids, dashboard.actor)
    except records.RecordNotFound:
        return _refused(_("Some of the selected records no longer exist. Reload the page and try again."), 409)
    response = await _region(dashboard, obj, form)
    message = ngettext("%(n)s record deleted.", "%(n)s records deleted.", len(ids)) % {
        "n": format_number(len(ids), dashboard.language)
    }
    return toast(response, message)


@post("/o/{object_name:str}/bulk/update", name="object-list-bulk-update", cache=False)
async def bulk_update(
    request: HTMXRequest, dashboard: NamedDependency[Dashboard], object_name: FromPath[str]
) -> Response[Any]:
    """``change`` is ``field:value`` (a select field and one of its options; an empty value clears it)."""
    obj = dashboard.object(object_name)
    form = await _form(request)
    ids = _selected_ids(form)
    if not ids:
        return _refused(_("Select at least one record."))
    if len(ids) > records.MAX_BATCH:
        return _refused(_("Select at most %(n)s records at a time.") % {"n": records.MAX_BATCH})
    name, _sep, value = str(form.get("change") or "").partition(":")
    target = obj.field(name)
    if target is None or target.type != FieldType.SELECT:
        return _refused(_("Choose a field and a value to set."))
    try:
        await records.update_records(dashboard.connection, obj, ids, {target.name: value or None}, dashboard.actor)
    except RecordInvalid as invalid:
        reason = "; ".join(f"{key}: {text}" for key, text in invalid.errors.items())
        return _refused(_("These records cannot be changed: %(reason)s") % {"reason": reason})
    except records.RecordNotFound:
        return _refused(_("Some of the selected records no longer exist. Reload the page and try again."), 409)
    response = await _region(dashboard, obj, form)
    shown = option_label(target, value, dashboard.language) if value else _("empty")
    message = ngettext(
        "%(field)s set to %(value)s for %(n)s record.", "%(field)s set to %(value)s for %(n)s records.", len(ids)
    ) % {
        "field": field_label(target, dashboard.language),
        "value": shown,
        "n": format_number(len(ids), dashboard.language),
    }
    return toast(response, message)


def _view_values(obj: ObjectDefinition, form: FormMultiDict) -> dict[str, Any]:
    """A saved view's filter (JSON), sorts and columns from the list state a form carries."""
    filter_text = str(form.get("filter") or "")
    parsed = parse_filter_text(filter_text) if filter_text.strip() else None
    return {
        "filter": None if parsed is None else filter_to_json(parsed),
        "sorts": sorts_to_json(query.parse_sorts(str(form.get("sort") or ""))),
        "columns": [name for name in dict.fromkeys(str(form.get("columns") or "").split(",")) if obj.field(name)],
    }


@post("/o/{object_name:str}/views", name="object-list-save-view", cache=False)
async def save_view(
    request: HTMXRequest, dashboard: NamedDependency[Dashboard], object_name: FromPath[str]
) -> Response[Any]:
    obj = dashboard.object(object_name)
    form = await _form(request)
    name = str(form.get("name") or "").strip()
    if not name:
        return _refused(_("Give the view a name."))
    shared = bool(form.get("shared")) and dashboard.can_manage
    try:
        created = await views.create_view(
            dashboard.connection,
            dashboard.catalogue,
            {"object": obj.name, "label_en": name, "label_ar": name, "kind": "table", **_view_values(obj, form)},
            None if shared else dashboard.member.user_id,
        )
    except (views.InvalidView, query.QueryError) as error:
        return _refused(_("This view cannot be saved: %(reason)s") % {"reason": str(error)})
    return Redirect(dashboard.url("o", obj.name) + "?" + urlencode({"view": created["id"]}), status_code=303)


async def _own_view(dashboard: Dashboard, obj: ObjectDefinition, view_id: uuid.UUID) -> dict[str, Any]:
    try:
        view = await views.get_view(dashboard.connection, view_id, dashboard.member.user_id)
    except views.ViewNotFound:
        raise NotFoundException("No such view.") from None
    if view["object"] != obj.name:
        raise NotFoundException("No such view.")
    return view


@post("/o/{object_name:str}/views/{view_id:uuid}", name="object-list-update-view", cache=False)
async def update_view(
    request: HTMXRequest,
    dashboard: NamedDependency[Dashboard],
    object_name: FromPath[str],
    view_id: FromPath[uuid.UUID],
) -> Response[Any]:
    """The view takes the list's current filter, sort and columns."""
    obj = dashboard.object(object_name)
    view = await _own_view(dashboard, obj, view_id)
    if view["shared"] and not dashboard.can_manage:
        return _refused(_("Only owners and admins change views shared with the team."), 403)
    form = await _form(request)
    try:
        await views.update_view(
            dashboard.connection, dashboard.catalogue, view_id, _view_values(obj, form), dashboard.member.user_id
        )
    except (views.InvalidView, query.QueryError) as error:
        return _refused(_("This view cannot be saved: %(reason)s") % {"reason": str(error)})
    return Redirect(dashboard.url("o", obj.name) + "?" + urlencode({"view": str(view_id)}), status_code=303)


@post("/o/{object_name:str}/views/{view_id:uuid}/delete", name="object-list-delete-view", cache=False)
async def delete_view(
    dashboard: NamedDependency[Dashboard], object_name: FromPath[str], view_id: FromPath[uuid.UUID]
) -> Response[Any]:
    obj = dashboard.object(object_name)
    view = await _own_view(dashboard, obj, view_id)
    if view["shared"] and not dashboard.can_manage:
        return _refused(_("Only owners and admins delete views shared with the team."), 403)
    await views.delete_view(dashboard.connection, view_id, dashboard.member.user_id)
    return Redirect(dashboard.url("o", obj.name), status_code=303)


LIST_ROUTES: list[Any] = [
    object_list,
    object_list_count,
    bulk_delete,
    bulk_update,
    save_view,
    update_view,
    delete_view,
]
