"""The kanban board (/t/{slug}/o/{object}/board) and its move endpoint: columns per option with counts and sums,
cards in manual order, moves between and within columns that persist, refusals that change nothing."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from httpx import AsyncClient

from app.crm import records
from app.crm.metadata import ObjectDefinition, load_catalogue
from app.crm.records import Actor
from app.crm.services import crm_connection
from app.settings import Settings
from tests.conftest import World
from tests.people import sign_in

SYSTEM = Actor(source="system")


@pytest.fixture
async def acme(client: AsyncClient, world: World, settings: Settings) -> AsyncIterator[asyncpg.Connection]:
    async with crm_connection(world.acme, settings) as connection:
        yield connection


async def _deals(
    connection: asyncpg.Connection, *rows: dict[str, Any]
) -> tuple[ObjectDefinition, list[dict[str, Any]]]:
    deals = (await load_catalogue(connection)).objects["opportunities"]
    return deals, [await records.create_record(connection, deals, row, SYSTEM) for row in rows]


def _column(page: str, value: str) -> str:
    """The HTML of one column of the board."""
    start = page.index(f'data-column data-value="{value}"')
    end = page.find('<section class="board-column"', start)
    return page[start : end if end != -1 else len(page)]


def _card_ids(column_html: str) -> list[str]:
    return re.findall(r'data-card data-id="([0-9a-f-]{36})"', column_html)


async def _order(connection: asyncpg.Connection, stage: str) -> list[str]:
    rows = await connection.fetch(
        "SELECT id FROM opportunities WHERE stage = $1 AND deleted_at IS NULL ORDER BY position, created_at, id", stage
    )
    return [str(row["id"]) for row in rows]


async def _move(client: AsyncClient, deal_id: str, **fields: str) -> Any:
    return await client.post(
        f"/t/acme/o/opportunities/{deal_id}/move",
        data={"field": "stage", **fields},
        headers={"x-csrftoken": client.cookies["csrftoken"], "Accept": "application/json"},
    )


async def test_the_board_has_a_column_per_stage_with_counts_and_sums(
    client: AsyncClient, acme: asyncpg.Connection
) -> None:
    _deals_obj, deals = await _deals(
        acme,
        {"name": "Perfume wholesale", "stage": "new", "amount": {"amount": "1500.00", "currency": "SAR"}},
        {"name": "Oud gift boxes", "stage": "new", "amount": {"amount": "250.50", "currency": "SAR"}},
        {"name": "Hotel amenities", "stage": "meeting"},
    )
    await sign_in(client, "bob@example.com")

    response = await client.get("/t/acme/o/opportunities/board")

    assert response.status_code == 200
    page = response.text
    labels = re.findall(r'<span class="chip chip-(\w+)">([^<]+)</span></h2>', page)
    assert labels == [
        ("blue", "New"),
        ("purple", "Screening"),
        ("sky", "Meeting"),
        ("orange", "Proposal"),
        ("green", "Customer"),
        ("red", "Lost"),
    ]
    new = _column(page, "new")
    assert _card_ids(new) == [deals[0]["id"], deals[1]["id"]]  # same position: oldest first
    assert '<span class="board-count" data-count title="Cards">2</span>' in new
    assert "SAR1,750.50" in new
    assert "Perfume wholesale" in new
    assert "SAR1,500.00" in new
    assert _card_ids(_column(page, "meeting")) == [deals[2]["id"]]
    assert 'href="/t/acme/o/opportunities"' in page  # back to the table


async def test_a_card_moves_to_another_stage_between_two_cards_and_stays_there(
    client: AsyncClient, acme: asyncpg.Connection
) -> None:
    deals_obj, deals = await _deals(
        acme,
        {"name": "A", "stage": "new"},
        {"name": "B", "stage": "meeting"},
        {"name": "C", "stage": "meeting"},
        {"name": "D", "stage": "meeting"},
    )
    a, b, c, d = (deal["id"] for deal in deals)
    await sign_in(client, "alice@example.com")

    moved = await _move(client, a, value="meeting", after=b, before=c)

    assert moved.status_code == 200
    body = moved.json()
    assert body["value"] == "meeting"
    assert body["columns"]["meeting"]["count"] == "4"
    assert "new" not in body["columns"]
    assert await _order(acme, "meeting") == [b, a, c, d]
    stored = await records.get_record(acme, deals_obj, uuid.UUID(a))
    assert stored["stage"] == "meeting"
    page = (await client.get("/t/acme/o/opportunities/board")).text
    assert _card_ids(_column(page, "meeting")) == [b, a, c, d]
    assert _card_ids(_column(page, "new")) == []
    timeline = await records.timeline(acme, deals_obj, uuid.UUID(a))
    assert timeline[0]["kind"] == "updated"
    assert timeline[0]["changes"] == {"stage": ["new", "meeting"]}
    assert timeline[0]["actor"]["name"] == "alice@example.com"


async def test_cards_reorder_within_a_stage(client: AsyncClient, acme: asyncpg.Connection) -> None:
    _deals_obj, deals = await _deals(acme, *({"name": name, "stage": "proposal"} for name in "ABCDE"))
    a, b, c, d, e = (deal["id"] for deal in deals)
    await sign_in(client, "alice@example.com")

    to_top = await _move(client, e, value="proposal", after="", before=a)
    after_b = await _move(client, a, value="proposal", after=b, before=c)
    to_end = await _move(client, b, value="proposal", after=d, before="")
    nowhere = await _move(client, c, value="proposal")  # no neighbours: the end of its column

    assert [r.status_code for r in (to_top, after_b, to_end, nowhere)] == [200, 200, 200, 200]
    assert await _order(acme, "proposal") == [e, a, d, b, c]
    page = (await client.get("/t/acme/o/opportunities/board")).text
    assert _card_ids(_column(page, "proposal")) == [e, a, d, b, c]


async def test_many_moves_between_the_same_neighbours_keep_the_order(
    client: AsyncClient, acme: asyncpg.Connection
) -> None:
    """Halving the gap again and again runs out of room: the column is renumbered, the order kept."""
    _deals_obj, deals = await _deals(acme, *({"name": f"Deal {n}", "stage": "new"} for n in range(4)))
    first, second, third, fourth = (deal["id"] for deal in deals)
    await sign_in(client, "alice@example.com")

    for _round in range(30):
        await _move(client, third, value="new", after=first, before=second)
        await _move(client, second, value="new", after=first, before=third)

    assert await _order(acme, "new") == [first, second, third, fourth]
    positions = [row["position"] for row in await acme.fetch("SELECT position FROM opportunities ORDER BY position")]
    assert len(set(positions)) == 4


async def test_an_unknown_stage_is_refused_and_nothing_changes(client: AsyncClient, acme: asyncpg.Connection) -> None:
    deals_obj, deals = await _deals(acme, {"name": "A", "stage": "new"}, {"name": "B", "stage": "new"})
    before = await acme.fetchrow(
        "SELECT stage, position, updated_at FROM opportunities WHERE id = $1", uuid.UUID(deals[1]["id"])
    )
    await sign_in(client, "alice@example.com")

    unknown = await _move(client, deals[1]["id"], value="won_maybe", after="", before=deals[0]["id"])
    not_a_select = await _move(client, deals[1]["id"], field="name", value="x")
    bad_neighbour = await _move(client, deals[1]["id"], value="meeting", after="not-an-id")
    missing = await _move(client, str(uuid.uuid4()), value="meeting")

    assert unknown.status_code == 400
    assert "won_maybe" in unknown.json()["detail"]
    assert not_a_select.status_code == 400
    assert bad_neighbour.status_code == 400
    assert missing.status_code == 404
    after = await acme.fetchrow(
        "SELECT stage, position, updated_at FROM opportunities WHERE id = $1", uuid.UUID(deals[1]["id"])
    )
    assert dict(after) == dict(before)
    assert len(await records.timeline(acme, deals_obj, uuid.UUID(deals[1]["id"]))) == 1  # only "created"


async def test_another_tenants_board_and_cards_do_not_exist(client: AsyncClient, acme: asyncpg.Connection) -> None:
    _deals_obj, deals = await _deals(acme, {"name": "Secret deal", "stage": "new"})
    await sign_in(client, "charlie@example.com")

    board = await client.get("/t/acme/o/opportunities/board")
    moved = await client.post(
        f"/t/acme/o/opportunities/{deals[0]['id']}/move",
        data={"field": "stage", "value": "lost"},
        headers={"x-csrftoken": client.cookies["csrftoken"], "Accept": "application/json"},
    )
    sideways = await client.post(
        f"/t/noor/o/opportunities/{deals[0]['id']}/move",
        data={"field": "stage", "value": "lost"},
        headers={"x-csrftoken": client.cookies["csrftoken"], "Accept": "application/json"},
    )

    assert board.status_code == 404
    assert "Secret deal" not in board.text
    assert moved.status_code == 404
    assert sideways.status_code == 404  # charlie's own tenant has no such deal
    assert (await acme.fetchval("SELECT stage FROM opportunities WHERE id = $1", uuid.UUID(deals[0]["id"]))) == "new"


async def test_any_select_field_makes_a_board(client: AsyncClient, acme: asyncpg.Connection) -> None:
    tasks = (await load_catalogue(acme)).objects["tasks"]
    task = await records.create_record(acme, tasks, {"title": "Call <Huda>", "status": "in_progress"}, SYSTEM)
    await sign_in(client, "alice@example.com")

    page = await client.get("/t/acme/o/tasks/board")
    by_text = await client.get("/t/acme/o/tasks/board?field=title")
    no_select = await client.get("/t/acme/o/notes/board")

    assert page.status_code == 200
    assert _card_ids(_column(page.text, "in_progress")) == [task["id"]]
    assert "Call &lt;Huda&gt;" in page.text
    assert "Call <Huda>" not in page.text
    assert by_text.status_code == 400
    assert no_select.status_code == 200
    assert "no select field" in no_select.text


async def test_the_board_speaks_arabic(client: AsyncClient, acme: asyncpg.Connection) -> None:
    await _deals(acme, {"name": "عطور الشرق", "stage": "new", "amount": {"amount": "100", "currency": "SAR"}})
    await sign_in(client, "alice@example.com")
    await client.get("/language/ar?next=/")

    page = (await client.get("/t/acme/o/opportunities/board")).text

    assert '<html lang="ar" dir="rtl">' in page
    for label in ("جديدة", "قيد الدراسة", "اجتماع", "عرض سعر", "خسارة"):
        assert f">{label}</span></h2>" in page
    assert "عطور الشرق" in page
    assert ">نقل<" in page
    assert "ر.س" in page


async def test_a_long_column_shows_more_cards_on_demand_and_a_filter_narrows_the_board(
    client: AsyncClient, acme: asyncpg.Connection
) -> None:
    _deals_obj, deals = await _deals(acme, *({"name": f"Lead {n:02d}", "stage": "new"} for n in range(55)))
    await sign_in(client, "alice@example.com")

    page = (await client.get("/t/acme/o/opportunities/board")).text
    first = _column(page, "new")
    more_url = re.search(r'hx-get="([^"]+)" hx-target="closest li"', first)
    assert more_url is not None
    more = await client.get(more_url[1].replace("&amp;", "&"))
    filtered = (await client.get("/t/acme/o/opportunities/board", params={"filter": 'name[starts_with]:"Lead 5"'})).text

    assert _card_ids(first) == [deal["id"] for deal in deals[:50]]
    assert '<span class="board-count" data-count title="Cards">55</span>' in first
    assert more.status_code == 200
    assert _card_ids(more.text) == [deal["id"] for deal in deals[50:]]
    assert "Show more" not in more.text
    assert _card_ids(_column(filtered, "new")) == [deal["id"] for deal in deals[50:]]
    assert 'data-filter="name[starts_with]:&#34;Lead 5&#34;"' in filtered
