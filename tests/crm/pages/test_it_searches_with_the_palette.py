"""The search palette's results: found as typed (Arabic spelling variants, e-mail, phone), grouped by object with the
object's label in the viewer's language, linking to each record's page; a hint for a query that is too short,
"nothing found" when nothing is; what people typed is escaped; another tenant's records never show."""

from __future__ import annotations

import re
import uuid

from httpx import AsyncClient

from app.crm import records
from app.crm.records import Actor
from app.crm.services import catalogue_of, crm_connection
from app.settings import Settings
from app.tenancy.repository import TenantRecord
from tests.conftest import World
from tests.people import sign_in

ALICE = Actor(source="user", id=str(uuid.uuid4()), name="Alice Admin")
HTMX = {"HX-Request": "true", "HX-Target": "palette-results", "HX-Trigger": "palette-input"}


async def _person(settings: Settings, tenant: TenantRecord, data: dict[str, object]) -> str:
    async with crm_connection(tenant, settings) as connection:
        people = (await catalogue_of(connection, tenant)).objects["people"]
        return str((await records.create_record(connection, people, data, ALICE))["id"])


async def _seed(settings: Settings, world: World) -> dict[str, str]:
    ahmed = await _person(
        settings,
        world.acme,
        {"first_name": "أحمد", "last_name": "الغامدي", "email": "ahmed@oud.example", "phone": "0501234567"},
    )
    sara = await _person(settings, world.acme, {"first_name": "Sara", "last_name": "Haddad", "city": "Jeddah"})
    async with crm_connection(world.acme, settings) as connection:
        products = (await catalogue_of(connection, world.acme)).objects["products"]
        oud = await records.create_record(connection, products, {"name": "دهن عود أحمد", "sku": "OUD-1"}, ALICE)
    # The same name in another tenant: acme must never see it.
    noor = await _person(settings, world.noor, {"first_name": "أحمد", "last_name": "النوري"})
    return {"ahmed": ahmed, "sara": sara, "oud": str(oud["id"]), "noor": noor}


def _hits(html: str) -> list[tuple[str, str]]:
    """(href, title) of every result, in order."""
    return re.findall(
        r'<a class="palette-hit" id="[^"]+" role="option" aria-selected="false" tabindex="-1" href="([^"]+)">\s*'
        r'<span class="palette-hit-title" dir="auto">(.*?)</span>',
        html,
    )


def _groups(html: str) -> list[str]:
    return re.findall(r'<div class="palette-group-label" id="[^"]+">(.*?)</div>', html)


async def test_an_arabic_name_is_found_however_it_is_spelled(
    client: AsyncClient, world: World, settings: Settings
) -> None:
    ids = await _seed(settings, world)
    await sign_in(client, "alice@example.com")

    found = await client.get("/t/acme/search", params={"q": "احمد"}, headers=HTMX)  # typed without the hamza

    assert found.status_code == 200
    assert "<html" not in found.text  # a fragment for the palette, not a page
    assert _groups(found.text) == ["Customers", "Products"]
    assert _hits(found.text) == [
        (f"/t/acme/o/people/{ids['ahmed']}", "أحمد الغامدي"),
        (f"/t/acme/o/products/{ids['oud']}", "دهن عود أحمد"),
    ]
    assert 'role="listbox"' in found.text
    assert "ahmed@oud.example · +966501234567" in found.text  # the detail tells people apart
    assert f"/o/people/{ids['noor']}" not in found.text  # noor's Ahmed stays in noor


async def test_a_customer_is_found_by_e_mail_and_by_phone(
    client: AsyncClient, world: World, settings: Settings
) -> None:
    ids = await _seed(settings, world)
    await sign_in(client, "alice@example.com")

    for typed in ("ahmed@oud", "0501234567", "+966 50 123 4567"):
        found = await client.get("/t/acme/search", params={"q": typed}, headers=HTMX)
        assert _hits(found.text) == [(f"/t/acme/o/people/{ids['ahmed']}", "أحمد الغامدي")], typed


async def test_labels_follow_the_viewer_language(client: AsyncClient, world: World, settings: Settings) -> None:
    await _seed(settings, world)
    await sign_in(client, "alice@example.com")
    client.cookies.set("wosool_lang", "ar")

    found = await client.get("/t/acme/search", params={"q": "sara"}, headers=HTMX)

    assert _groups(found.text) == ["العملاء"]
    assert "النتائج: 1" in found.text


async def test_another_tenant_finds_only_its_own_records(client: AsyncClient, world: World, settings: Settings) -> None:
    ids = await _seed(settings, world)
    await sign_in(client, "charlie@example.com")

    own = await client.get("/t/noor/search", params={"q": "أحمد"}, headers=HTMX)
    assert _hits(own.text) == [(f"/t/noor/o/people/{ids['noor']}", "أحمد النوري")]
    assert (await client.get("/t/acme/search", params={"q": "أحمد"}, headers=HTMX)).status_code == 404
    assert (await client.get("/t/acme/search", params={"q": "أحمد"})).status_code == 404


async def test_a_short_query_gets_a_hint_and_nothing_found_says_so(
    client: AsyncClient, world: World, settings: Settings
) -> None:
    await _seed(settings, world)
    await sign_in(client, "alice@example.com")

    short = await client.get("/t/acme/search", params={"q": "a"}, headers=HTMX)
    assert short.status_code == 200
    assert "Type at least two letters or digits to search." in short.text
    assert _hits(short.text) == []

    empty = await client.get("/t/acme/search", params={"q": ""}, headers=HTMX)
    assert "Search customers, companies, deals, orders and more" in empty.text

    nothing = await client.get("/t/acme/search", params={"q": "zzqx%_"}, headers=HTMX)
    assert nothing.status_code == 200
    assert "Nothing found for “zzqx%_”." in nothing.text
    assert _hits(nothing.text) == []


async def test_what_people_typed_is_escaped(client: AsyncClient, world: World, settings: Settings) -> None:
    await _person(settings, world.acme, {"first_name": "<script>alert(1)</script>", "last_name": "Mallory"})
    await sign_in(client, "alice@example.com")

    found = await client.get("/t/acme/search", params={"q": "mallory"}, headers=HTMX)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Mallory" in found.text
    assert "<script>" not in found.text

    query = await client.get("/t/acme/search", params={"q": '"><img src=x>'}, headers=HTMX)
    assert "<img src=x>" not in query.text
    assert "&#34;&gt;&lt;img src=x&gt;" in query.text


async def test_a_search_link_opens_a_page_with_every_result(
    client: AsyncClient, world: World, settings: Settings
) -> None:
    ids = await _seed(settings, world)
    await sign_in(client, "alice@example.com")

    page = await client.get("/t/acme/search", params={"q": "احمد"})

    assert page.status_code == 200
    assert '<html lang="en" dir="ltr">' in page.text  # a whole page, inside the dashboard's frame
    assert 'class="app-shell"' in page.text
    assert "<title>Search: احمد · Acme</title>" in page.text
    assert 'value="احمد"' in page.text  # the query stays in the search box
    assert f'href="/t/acme/o/people/{ids["ahmed"]}"' in page.text
    assert f'href="/t/acme/o/products/{ids["oud"]}"' in page.text


async def test_back_forward_and_boosted_requests_get_the_whole_page(
    client: AsyncClient, world: World, settings: Settings
) -> None:
    await _seed(settings, world)
    await sign_in(client, "alice@example.com")

    for headers in (
        {"HX-Request": "true", "HX-History-Restore-Request": "true"},  # back/forward re-fetch (no history cache)
        {"HX-Request": "true", "HX-Boosted": "true"},  # a boosted link or the palette's form
    ):
        page = await client.get("/t/acme/search", params={"q": "sara"}, headers=headers)
        assert page.status_code == 200
        assert 'class="app-shell"' in page.text, headers


async def test_a_very_long_query_is_cut_not_refused(client: AsyncClient, world: World, settings: Settings) -> None:
    ids = await _seed(settings, world)
    await sign_in(client, "alice@example.com")

    # Searched as its first 200 characters: "sara" and spaces.
    found = await client.get("/t/acme/search", params={"q": "sara" + " " * 300 + "x" * 500}, headers=HTMX)

    assert found.status_code == 200
    assert _hits(found.text) == [(f"/t/acme/o/people/{ids['sara']}", "Sara Haddad")]
