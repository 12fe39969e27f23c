"""The sidebar of the dashboard's frame (templates/crm/_sidebar.html): every object of the catalogue and the other
sections, the one the page is in marked. Each process renders it once per tenant name, catalogue, language and
section (Dashboard.sidebar), so a change to any of those must show on the next page."""

from __future__ import annotations

import html
import re

from httpx import AsyncClient

from app.crm import records, schema_changes
from app.crm.metadata import load_catalogue
from app.crm.records import Actor
from app.crm.services import crm_connection
from app.settings import Settings
from tests.conftest import World
from tests.people import sign_in


def _sidebar(page: str) -> str:
    found = re.search(r'<aside class="sidebar".*?</aside>', page, re.S)
    assert found is not None, page[-2000:]
    return found[0]


def _current(page: str) -> list[str]:
    return re.findall(r'<a href="([^"]+)" aria-current="page">', _sidebar(page))


async def test_it_marks_the_section_each_page_is_in(client: AsyncClient, world: World, settings: Settings) -> None:
    async with crm_connection(world.acme, settings) as connection:
        people = (await load_catalogue(connection)).get("people")
        assert people is not None
        sara = await records.create_record(connection, people, {"first_name": "Sara"}, Actor(source="system"))
    await sign_in(client, "alice@example.com")

    for path, current in (
        ("/t/acme/", "/t/acme/"),
        ("/t/acme/o/people", "/t/acme/o/people"),
        (f"/t/acme/o/people/{sara['id']}", "/t/acme/o/people"),
        ("/t/acme/o/companies", "/t/acme/o/companies"),
        ("/t/acme/import", "/t/acme/import"),
        ("/t/acme/settings", "/t/acme/settings"),
        ("/t/acme/settings/objects/people", "/t/acme/settings"),
        ("/t/acme/o/people", "/t/acme/o/people"),
    ):
        response = await client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        assert _current(response.text) == [current], path


async def test_it_marks_no_section_where_the_page_is_in_none(client: AsyncClient, world: World) -> None:
    await sign_in(client, "alice@example.com")

    for path in ("/t/acme/search?q=sara", "/t/acme/o/order_items"):
        response = await client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        assert _current(response.text) == [], path


async def test_it_shows_a_new_object_and_speaks_the_pages_language(
    client: AsyncClient, world: World, settings: Settings
) -> None:
    await sign_in(client, "alice@example.com")
    before = (await client.get("/t/acme/o/people")).text
    async with crm_connection(world.acme, settings) as connection:
        await schema_changes.create_object(
            connection,
            world.acme,
            schema_changes.NewObject("branches", "branch", "Branch", "فرع", "Branches", "الفروع"),
        )
    after = (await client.get("/t/acme/o/people")).text
    await client.get("/language/ar?next=/")
    arabic = (await client.get("/t/acme/o/people")).text

    assert "/t/acme/o/branches" not in _sidebar(before)
    assert '<a href="/t/acme/o/branches" >Branches</a>' in _sidebar(after)
    assert '<a href="/t/acme/o/branches" >الفروع</a>' in _sidebar(arabic)
    assert '<a href="/t/acme/o/people" aria-current="page">العملاء</a>' in _sidebar(arabic)
    assert f"<strong>{html.escape(world.acme.name)}</strong>" in _sidebar(arabic)
