"""The tenant's home page: "preparing your CRM" while it is being created, then the dashboard's home: key figures
of the last 30 days, a revenue chart (SVG drawn here, on the server), top products, open deals, tasks due and
recent activity (the rules of the figures live in app/crm/figures.py)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from babel import dates, numbers
from babel.lists import format_list
from litestar import Request, get
from litestar.di import NamedDependency, Provide
from litestar.response import Template

from app.accounts.access import TenantAccess, any_status_access
from app.crm.figures import Activity, Day, DueTask, HomeFigures, home_figures
from app.crm.pages.dashboard import Dashboard, open_dashboard
from app.crm.pages.present import field_label, object_label, record_title
from app.lib.i18n import babel_locale, format_date, format_money, format_number
from app.lib.i18n import gettext as _

__all__ = ["HOME_ROUTES", "Chart", "moment", "revenue_chart"]


@get("/", name="tenant-home", cache=False, dependencies={"access": Provide(any_status_access)})
async def tenant_home(request: Request[Any, Any, Any], access: NamedDependency[TenantAccess]) -> Template:
    tenant = access.tenant
    if tenant.status in ("provisioning", "failed"):
        return Template("tenancy/preparing.html", context={"tenant": tenant, "member": access.member})
    if tenant.status != "active":
        return Template(
            "tenancy/unavailable.html", context={"tenant": tenant, "member": access.member}, status_code=403
        )
    dashboard = open_dashboard(request, access)
    try:
        board = await anext(dashboard)
        return await _home(board)
    finally:
        await dashboard.aclose()


async def _home(dashboard: Dashboard) -> Template:
    figures = await home_figures(dashboard.connection, dashboard.catalogue, cache_key=str(dashboard.tenant.id))
    language = dashboard.language
    return dashboard.page(
        "crm/home.html",
        figures=figures,
        chart=revenue_chart(figures, language),
        tasks=[_task_line(dashboard, task, figures.timezone) for task in figures.tasks],
        activity=[_activity_line(dashboard, item, figures.timezone) for item in figures.activity],
        labels={name: object_label(obj, language) for name, obj in dashboard.catalogue.objects.items()},
        timezone=figures.timezone,
    )


# The chart: revenue per day as bars, drawn as inline SVG. Time runs the way the page reads: left to right in
# English, right to left in Arabic (the first day at the inline start), with the amount axis at the inline start.


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    day: dt.date
    label: str
    """What the bar says (its tooltip): the day, the revenue and the orders."""


@dataclass(frozen=True)
class Tick:
    x: float
    y: float
    label: str


@dataclass(frozen=True)
class ChartRow:
    day: str
    orders: str
    revenue: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    rtl: bool
    plot_start: float
    """The x of the amount axis (left in English, right in Arabic)."""
    plot_end: float
    plot_top: float
    plot_bottom: float
    bars: list[Bar]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    title: str
    description: str
    unit: str
    """The currency symbol of the amount axis."""
    rows: list[ChartRow]
    empty: bool


_WIDTH, _HEIGHT = 640, 260
_AXIS, _END, _TOP, _BOTTOM = 56.0, 28.0, 30.0, 30.0
_X_LABEL_EVERY = 7


def _nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten at or above ``value`` (a round top for the axis)."""
    if value <= 0:
        return 1.0
    power: float = 10.0 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def revenue_chart(figures: HomeFigures, language: str) -> Chart:
    days, currency = figures.days, figures.currency
    locale = babel_locale(language)
    rtl = language == "ar"
    places = numbers.get_currency_precision(currency)
    top = _nice_ceiling(max((day.revenue_minor for day in days), default=0) / 10**places)
    plot_width = _WIDTH - _AXIS - _END
    plot_height = _HEIGHT - _TOP - _BOTTOM
    slot = plot_width / max(len(days), 1)
    gap = min(4.0, slot * 0.25)

    def x_of(index: int, width: float) -> float:
        """The physical x of something ``index`` slots from the axis (mirrored right to left in Arabic)."""
        offset = _AXIS + index * slot + (slot - width) / 2
        return _WIDTH - offset - width if rtl else offset

    bars = []
    for index, day in enumerate(days):
        height = (day.revenue_minor / 10**places) / top * plot_height
        bars.append(
            Bar(
                x=round(x_of(index, slot - gap), 2),
                y=round(_TOP + plot_height - height, 2),
                width=round(slot - gap, 2),
                height=round(height, 2),
                day=day.day,
                label=_bar_label(day, currency, language),
            )
        )
    y_ticks = [
        Tick(
            x=(_WIDTH - _AXIS + 6) if rtl else (_AXIS - 6),
            y=round(_TOP + plot_height - share * plot_height, 2),
            label=numbers.format_compact_decimal(top * share, locale=locale, fraction_digits=1),
        )
        for share in (0, 0.5, 1)
    ]
    last = len(days) - 1
    x_ticks = [
        Tick(
            x=round(x_of(index, 0), 2),
            y=_HEIGHT - 8,
            label=format_date(days[index].day, language, style="d MMM"),
        )
        for index in range(last, -1, -_X_LABEL_EVERY)
    ]
    best = max(days, key=lambda day: day.revenue_minor) if days else None
    total = format_money(figures.revenue_minor, currency, language)
    first_day = format_date(figures.period_start, language, style="d MMMM")
    last_day = format_date(figures.today, language, style="d MMMM")
    if best is None or best.revenue_minor == 0:
        description = _("No revenue from %(first)s to %(last)s.") % {"first": first_day, "last": last_day}
    else:
        description = _("From %(first)s to %(last)s: %(total)s in all; the best day was %(day)s with %(best)s.") % {
            "first": first_day,
            "last": last_day,
            "total": total,
            "day": format_date(best.day, language, style="d MMMM"),
            "best": format_money(best.revenue_minor, currency, language),
        }
    return Chart(
        width=_WIDTH,
        height=_HEIGHT,
        rtl=rtl,
        plot_start=(_WIDTH - _AXIS) if rtl else _AXIS,
        plot_end=_END if rtl else (_WIDTH - _END),
        plot_top=_TOP,
        plot_bottom=_TOP + plot_height,
        bars=bars,
        y_ticks=y_ticks,
        x_ticks=x_ticks,
        title=_("Revenue per day, last 30 days"),
        description=description,
        unit=numbers.get_currency_symbol(currency, locale=locale),
        rows=[
            ChartRow(
                day=format_date(day.day, language, style="EEE d MMM"),
                orders=format_number(day.orders, language),
                revenue=format_money(day.revenue_minor, currency, language),
            )
            for day in days
        ],
        empty=best is None or best.revenue_minor == 0,
    )


def _bar_label(day: Day, currency: str, language: str) -> str:
    return _("%(day)s: %(revenue)s (orders: %(orders)s)") % {
        "day": format_date(day.day, language, style="EEE d MMM"),
        "revenue": format_money(day.revenue_minor, currency, language),
        "orders": format_number(day.orders, language),
    }


@dataclass(frozen=True)
class TaskLine:
    title: str
    url: str
    overdue: bool
    at: str
    due: str
    """When it is due, short: "Wed, Nov 25 · 9:52 AM"."""


def moment(value: dt.datetime, language: str, timezone: str) -> str:
    """A day and time as people read them at a glance, in the workspace's time zone."""
    zone = ZoneInfo(timezone)
    locale = babel_locale(language)
    day = dates.format_skeleton("MMMEd", value, tzinfo=zone, locale=locale)
    return f"{day} · {dates.format_time(value, 'short', tzinfo=zone, locale=locale)}"


def _task_line(dashboard: Dashboard, task: DueTask, timezone: str) -> TaskLine:
    return TaskLine(
        title=task.title or _("Untitled"),
        url=dashboard.url("o", "tasks", task.id),
        overdue=task.overdue,
        at=task.due_at.isoformat(),
        due=moment(task.due_at, dashboard.language, timezone),
    )


# Recent activity, as lines a person reads: what happened, to which record, by whom, when.


@dataclass(frozen=True)
class ActivityLine:
    action: str
    object_label: str
    title: str
    url: str | None
    """The record's page while the record is live."""
    detail: str
    who: str
    when: str
    """How long ago, in words."""
    at: str
    """The exact time (ISO 8601, for <time datetime>)."""
    at_label: str


def _activity_line(dashboard: Dashboard, item: Activity, timezone: str) -> ActivityLine:
    language = dashboard.language
    obj = dashboard.catalogue.get(item.object_name)
    action = {
        "created": _("Created"),
        "updated": _("Updated"),
        "deleted": _("Deleted"),
        "restored": _("Restored"),
        "linked": _("Linked"),
        "merged": _("Merged"),
    }.get(item.kind, item.kind.replace("_", " ").capitalize())
    detail = item.summary
    if item.kind == "updated" and item.changed and obj is not None:
        labels = [field_label(field, language) for name in item.changed if (field := obj.field(name)) is not None]
        if labels:
            detail = _("Changed: %(fields)s") % {"fields": format_list(labels[:4], locale=babel_locale(language))}
    elif item.kind == "linked" and item.other_object:
        other = dashboard.catalogue.get(item.other_object)
        if other is not None and item.other_record is not None:
            detail = _("With %(object)s “%(title)s”") % {
                "object": object_label(other, language, plural=False),
                "title": record_title(other, item.other_record, language),
            }
    if obj is None:
        title, label, url = _("Removed object"), item.object_name, None
    elif item.record is None:
        title, label, url = _("A deleted record"), object_label(obj, language, plural=False), None
    else:
        title = record_title(obj, item.record, language)
        label = object_label(obj, language, plural=False)
        url = dashboard.url("o", obj.name, item.record_id)
    return ActivityLine(
        action=action,
        object_label=label,
        title=title,
        url=url,
        detail=detail,
        who=_actor(item.actor_source, item.actor_name),
        when=dates.format_timedelta(
            min(item.happened_at - dt.datetime.now(dt.UTC), dt.timedelta(0)),
            add_direction=True,
            threshold=1,
            locale=babel_locale(language),
        ),
        at=item.happened_at.isoformat(),
        at_label=moment(item.happened_at, language, timezone),
    )


def _actor(source: str, name: str | None) -> str:
    if name:
        return name
    return {
        "user": _("A team member"),
        "api_key": _("An API key"),
        "salla": _("Salla"),
        "widget": _("The storefront widget"),
        "import": _("An import"),
        "system": _("Wosool"),
    }.get(source, source)


HOME_ROUTES: list[Any] = [tenant_home]
