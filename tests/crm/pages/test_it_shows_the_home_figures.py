"""The dashboard's home: key figures of the last 30 days computed from the records (deleted ones and older ones left
out), the revenue chart as inline SVG, top products, open deals, tasks due and recent activity, in English and
Arabic, and nothing of another tenant."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from typing import Any

from httpx import AsyncClient

from app.crm import records
from app.crm.figures import home_figures
from app.crm.records import Actor
from app.crm.services import catalogue_of, crm_connection
from app.lib.i18n import format_money, format_number
from app.settings import Settings
from tests.conftest import World
from tests.people import sign_in

ALICE = Actor(source="user", id=str(uuid.uuid4()), name="Alice Admin")
NOW = dt.datetime.now(dt.UTC)


def _at(days: float) -> str:
    return (NOW + dt.timedelta(days=days)).isoformat()


def _sar(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "SAR"}


@dataclass
class Seeded:
    ids: dict[str, str]


async def _seed(settings: Settings, world: World) -> Seeded:
    """Known records in acme: what counts and what must not (older than 30 days, deleted, done, won, lost)."""
    ids: dict[str, str] = {}
    async with crm_connection(world.acme, settings) as connection:
        catalogue = await catalogue_of(connection, world.acme)
        objects = catalogue.objects

        async def create(object_name: str, data: dict[str, Any], key: str | None = None) -> str:
            record = await records.create_record(connection, objects[object_name], data, ALICE)
            if key:
                ids[key] = record["id"]
            return str(record["id"])

        async def delete(object_name: str, record_id: str) -> None:
            await records.delete_record(connection, objects[object_name], uuid.UUID(record_id), ALICE)

        # Customers: two new ones, one created 60 days ago (the engine sets created_at itself, so the test moves it
        # back in the table), one deleted.
        ahmed = await create("people", {"first_name": "Ahmed", "last_name": "Al-Ghamdi"}, "ahmed")
        await create("people", {"first_name": "Sara"})
        khalid = await create("people", {"first_name": "Khalid"})
        await connection.execute(
            "UPDATE people SET created_at = now() - interval '60 days' WHERE id = $1", uuid.UUID(khalid)
        )
        await delete("people", await create("people", {"first_name": "Gone"}))

        oud = await create("products", {"name": "Oud oil"}, "oud")
        musk = await create("products", {"name": "Musk"}, "musk")

        async def order(reference: str, days: float, total: dict[str, str], items: list[dict[str, Any]]) -> str:
            data = {"reference": reference, "ordered_at": _at(days), "total": total, "customer": ahmed}
            order_id = await create("orders", data, reference)
            for item in items:
                await create("order_items", {"order": order_id, **item})
            return order_id

        await order(
            "A-1",
            -1,
            _sar("150.00"),
            [
                {"product": oud, "name": "Oud oil", "quantity": 2, "total": _sar("100.00")},
                {"product": musk, "name": "Musk", "quantity": 1, "total": _sar("50.00")},
            ],
        )
        deleted_item = await create(
            "order_items", {"order": ids["A-1"], "product": musk, "quantity": 100, "total": _sar("5000.00")}
        )
        await delete("order_items", deleted_item)
        await order(
            "B-2",
            -3,
            _sar("200.00"),
            [
                {"product": oud, "name": "Oud oil", "quantity": 1, "total": _sar("50.00")},
                {"name": "Gift wrap", "quantity": 3, "total": _sar("15.00")},
            ],
        )
        await order("C-3", -10, _sar("99.50"), [])
        await order("F-6", -5, {"amount": "40.00", "currency": "USD"}, [])  # an order, but no SAR revenue
        await order("D-4", -45, _sar("1000.00"), [{"product": musk, "quantity": 10, "total": _sar("1000.00")}])
        await delete("orders", await order("E-5", -2, _sar("500.00"), [{"product": musk, "quantity": 20}]))

        await create("opportunities", {"name": "Wholesale", "stage": "new", "amount": _sar("1000.00")})
        await create("opportunities", {"name": "Wedding", "stage": "proposal", "amount": _sar("500.00")})
        await create("opportunities", {"name": "No stage yet", "amount": _sar("250.00")})
        await create("opportunities", {"name": "Won", "stage": "customer", "amount": _sar("9999.00")})
        await create("opportunities", {"name": "Lost", "stage": "lost", "amount": _sar("7777.00")})
        await delete("opportunities", await create("opportunities", {"name": "Gone", "stage": "new"}))

        await create("tasks", {"title": "Call Ahmed", "status": "todo", "due_at": _at(1)}, "call")
        await create("tasks", {"title": "Send invoice", "status": "in_progress", "due_at": _at(-2)}, "invoice")
        await create("tasks", {"title": "Already done", "status": "done", "due_at": _at(1)})
        await create("tasks", {"title": "Next month", "status": "todo", "due_at": _at(20)})
        await create("tasks", {"title": "No date", "status": "todo"})
        await delete("tasks", await create("tasks", {"title": "Dropped", "status": "todo", "due_at": _at(1)}))

        # The newest activity: a customer whose name holds HTML, then her city changed.
        layla = await create("people", {"first_name": "Layla <b>", "city": "Riyadh"}, "layla")
        await records.update_record(connection, objects["people"], uuid.UUID(layla), {"city": "Jeddah"}, ALICE)
    return Seeded(ids)


def _figure(html: str, name: str) -> tuple[str, str]:
    """(value, note) of the key figure card ``name``."""
    card = html.split(f'data-figure="{name}"', 1)[1].split("</a>", 1)[0]
    value = re.search(r'<strong class="figure-value">(.*?)</strong>', card, re.S)
    note = re.search(r'<span class="figure-note">(.*?)</span>', card, re.S)
    assert value, card
    assert note, card
    return value[1].strip(), note[1].strip()


def _bars(html: str) -> list[tuple[str, float, float]]:
    """(day, x, height) of every bar of the revenue chart."""
    return [
        (match["day"], float(match["x"]), float(match["height"]))
        for match in re.finditer(
            r'<rect class="chart-bar" x="(?P<x>[\d.]+)" y="[\d.]+" width="[\d.]+" height="(?P<height>[\d.]+)" '
            r'data-day="(?P<day>[\d-]+)"',
            html,
        )
    ]


async def test_the_home_shows_the_figures_of_the_last_30_days(
    client: AsyncClient, world: World, settings: Settings
) -> None:
    seeded = await _seed(settings, world)
    await sign_in(client, "alice@example.com")

    page = await client.get("/t/acme/")

    assert page.status_code == 200, page.text[-3000:]
    html = page.text
    # 4 live customers (Ahmed, Sara, Khalid, Layla); 3 created in the period (Khalid is older); Gone is deleted.
    assert _figure(html, "customers") == ("4", "+3 new in 30 days")
    # Orders A, B, C and F (F in USD); D is older than 30 days, E is deleted.
    assert _figure(html, "orders")[0] == "4"
    assert _figure(html, "revenue")[0] == format_money(44950, "SAR", "en")  # 150 + 200 + 99.50, SAR only
    # Wholesale, Wedding and the deal without a stage; won, lost and deleted deals are not open.
    assert _figure(html, "deals") == ("3", f"worth {format_money(175000, 'SAR', 'en')}")
    # Call Ahmed (tomorrow) and Send invoice (overdue); not the done, later, undated or deleted ones.
    assert _figure(html, "tasks") == ("2", "1 overdue")
    tasks = html.split('id="tasks-heading"', 1)[1].split("</section>", 1)[0]
    assert tasks.index("Send invoice") < tasks.index("Call Ahmed")  # the overdue one first
    assert f'href="/t/acme/o/tasks/{seeded.ids["invoice"]}"' in tasks
    assert "Overdue" in tasks
    for absent in ("Already done", "Next month", "No date", "Dropped"):
        assert absent not in tasks

    # Top products: oud oil (3 sold, 150.00), then gift wrap (3 sold, 15.00, no product record), then musk (1 sold:
    # not the 10 of the old order, the 20 of the deleted order or the deleted item's 100).
    products = html.split('id="products-heading"', 1)[1].split("</section>", 1)[0]
    rows = re.findall(r"<tr>\s*<th scope=\"row\">(.*?)</th>\s*<td>(.*?)</td>\s*<td>(.*?)</td>", products, re.S)
    assert [(re.sub(r"<[^>]+>", "", name), sold, revenue) for name, sold, revenue in rows] == [
        ("Oud oil", "3", format_money(15000, "SAR", "en")),
        ("Gift wrap", "3", format_money(1500, "SAR", "en")),
        ("Musk", "1", format_money(5000, "SAR", "en")),
    ]
    assert f'href="/t/acme/o/products/{seeded.ids["oud"]}"' in products

    # The Salla card loads after the page: no store is connected to this CRM.
    assert 'hx-get="/t/acme/salla/card"' in html
    card = (await client.get("/t/acme/salla/card", headers={"HX-Request": "true"})).text
    assert 'data-salla="not-connected"' in card
    assert "Not connected yet" in card

    # What the page shows is what the engine computes from the stored records.
    async with crm_connection(world.acme, settings) as connection:
        figures = await home_figures(connection, await catalogue_of(connection, world.acme))
    assert (figures.customers, figures.new_customers, figures.orders, figures.revenue_minor) == (4, 3, 4, 44950)
    assert (figures.open_deals, figures.open_deals_amount_minor, figures.tasks_due) == (3, 175000, 2)


async def test_the_revenue_chart_has_a_bar_per_day_and_a_table_for_screen_readers(
    client: AsyncClient, world: World, settings: Settings
) -> None:
    await _seed(settings, world)
    await sign_in(client, "alice@example.com")

    html = (await client.get("/t/acme/")).text

    chart = html.split('<section class="home-card home-chart"', 1)[1].split("</section>", 1)[0]
    assert 'role="img"' in chart
    assert 'aria-labelledby="revenue-chart-title revenue-chart-desc"' in chart
    assert '<title id="revenue-chart-title">Revenue per day, last 30 days</title>' in chart
    bars = _bars(chart)
    assert len(bars) == 30
    days = [dt.date.fromisoformat(day) for day, _x, _h in bars]
    assert days == sorted(days)
    assert (days[-1] - days[0]).days == 29
    # Three days with SAR revenue (A, B, C); the USD order's day stays at zero.
    assert len([height for _day, _x, height in bars if height > 0]) == 3
    assert bars[0][1] < bars[-1][1]  # English: time runs left to right
    # The same numbers as a table: 30 days, one row each.
    table = chart.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert table.count("<tr>") == 30
    assert format_money(20000, "SAR", "en") in table


async def test_the_activity_links_to_records_and_escapes_what_people_typed(
    client: AsyncClient, world: World, settings: Settings
) -> None:
    seeded = await _seed(settings, world)
    await sign_in(client, "alice@example.com")

    html = (await client.get("/t/acme/")).text

    activity = html.split('id="activity-heading"', 1)[1].split("</section>", 1)[0]
    newest = activity.split("<li>")[1]
    assert "Updated" in newest
    assert "Changed: City" in newest
    assert "Alice Admin" in newest
    assert f'href="/t/acme/o/people/{seeded.ids["layla"]}"' in newest
    assert "Layla &lt;b&gt;" in newest
    assert "Layla <b>" not in html
    # The deleted task shows, without a link to a page that no longer exists.
    assert "Deleted" in activity
    assert "A deleted record" in activity


async def test_a_new_order_counts_at_once(client: AsyncClient, world: World, settings: Settings) -> None:
    await sign_in(client, "alice@example.com")
    empty = (await client.get("/t/acme/")).text
    assert _figure(empty, "orders")[0] == "0"
    assert "No revenue from" in empty
    assert "Nothing has happened yet" in empty

    async with crm_connection(world.acme, settings) as connection:
        orders = (await catalogue_of(connection, world.acme)).objects["orders"]
        await records.create_record(
            connection, orders, {"reference": "N-1", "ordered_at": _at(0), "total": _sar("12.00")}, ALICE
        )

    after = (await client.get("/t/acme/")).text
    assert _figure(after, "orders")[0] == "1"
    assert _figure(after, "revenue")[0] == format_money(1200, "SAR", "en")


async def test_the_home_in_arabic_reads_right_to_left_with_arabic_labels_and_riyals(
    client: AsyncClient, world: World, settings: Settings
) -> None:
    await _seed(settings, world)
    await sign_in(client, "alice@example.com")
    client.cookies.set("wosool_lang", "ar")

    html = (await client.get("/t/acme/")).text

    assert '<html lang="ar" dir="rtl">' in html
    assert "العملاء" in _label(html, "customers")
    assert _label(html, "revenue") == "الإيرادات"
    assert _figure(html, "revenue")[0] == format_money(44950, "SAR", "ar")
    assert "ر.س." in _figure(html, "revenue")[0]
    assert _figure(html, "customers") == (format_number(4, "ar"), "+3 جدد خلال 30 يومًا")
    assert "الإيرادات اليومية خلال آخر 30 يومًا" in html  # the chart's title
    bars = _bars(html)
    assert len(bars) == 30
    assert bars[0][1] > bars[-1][1]  # Arabic: time runs right to left
    assert 'direction="rtl"' in html


def _label(html: str, name: str) -> str:
    card = html.split(f'data-figure="{name}"', 1)[1].split("</a>", 1)[0]
    found = re.search(r'<span class="figure-label">(.*?)</span>', card, re.S)
    assert found
    return found[1].strip()


async def test_someone_of_another_tenant_gets_a_404(client: AsyncClient, world: World, settings: Settings) -> None:
    await _seed(settings, world)
    await sign_in(client, "charlie@example.com")

    assert (await client.get("/t/acme/")).status_code == 404
    own = await client.get("/t/noor/")
    assert own.status_code == 200
    assert _figure(own.text, "customers")[0] == "0"  # noor sees its own (empty) CRM, nothing of acme's
    assert "Ahmed" not in own.text
