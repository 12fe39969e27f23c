"""A list's saved views and tools, and its column headers, are made once per process for everything they show
(`_list_controls` and `_headers` in app/crm/pages/lists.py): whoever looks, in whatever language, with whatever
filter and CSRF token, must see their own, and a view saved anywhere must show on the next page."""

from __future__ import annotations

import re

from httpx import ASGITransport, AsyncClient
from litestar import Litestar

from app.accounts import repository as accounts
from app.accounts import services as accounts_services
from app.crm import schema_changes
from app.crm.fields import Color, SelectOption
from app.crm.services import crm_connection
from app.settings import Settings
from tests.conftest import World
from tests.crm.fields import LOYALTY_TIER
from tests.people import add_member, sign_in

LIST = "/t/acme/o/people"


def _another_browser(app: Litestar) -> AsyncClient:
    """A second browser on the app the ``client`` fixture has started: its own cookies, the same processes."""
    return AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver")


def _token(client: AsyncClient) -> dict[str, str]:
    return {"x-csrftoken": client.cookies.get("csrftoken", "")}


async def _sign_out(client: AsyncClient) -> None:
    assert (await client.post("/logout", headers=_token(client))).status_code in (302, 303)


def _view_tabs(page: str) -> list[str]:
    tabs = re.search(r'<nav class="view-tabs".*?</nav>', page, re.S)
    assert tabs is not None
    return [label.strip() for label in re.findall(r'\?view=[^"]+"[^>]*>([^<]+)', tabs.group(0))]


def _builder_options(page: str, field: str) -> list[str]:
    """The options the filter builder offers for a select field (its datalist)."""
    found = re.search(rf'<datalist id="filter-options-{field}">(.*?)</datalist>', page, re.S)
    assert found is not None, page[-3000:]
    return re.findall(r'<option value="([^"]*)">', found.group(1))


def _form_tokens(page: str) -> set[str]:
    return set(re.findall(r'name="_csrf_token" value="([^"]+)"', page))


async def test_each_person_sees_their_own_views_and_what_their_role_allows(client: AsyncClient, world: World) -> None:
    await sign_in(client, "alice@example.com")
    saved = await client.post(f"{LIST}/views", data={"name": "Alice's own"}, headers=_token(client))
    assert saved.status_code == 303
    alice_page = (await client.get(LIST)).text

    await _sign_out(client)  # the same browser, so the same CSRF token
    await sign_in(client, "bob@example.com")
    bob_page = (await client.get(LIST)).text

    assert _view_tabs(alice_page) == ["Alice&#39;s own", "All customers"]
    assert _view_tabs(bob_page) == ["All customers"]
    assert "Share it with the team" in alice_page  # alice owns acme
    assert "Share it with the team" not in bob_page  # bob is a member


async def test_every_browser_gets_forms_with_its_own_csrf_token(
    client: AsyncClient, world: World, app: Litestar
) -> None:
    await sign_in(client, "alice@example.com")
    first = (await client.get(LIST)).text

    async with _another_browser(app) as other_browser:
        await sign_in(other_browser, "alice@example.com")
        second = (await other_browser.get(LIST)).text
        saved = await other_browser.post(
            f"{LIST}/views",
            data={"name": "From the other browser", "_csrf_token": _form_tokens(second).pop()},
        )

    assert _form_tokens(first) == {client.cookies["csrftoken"]}
    assert _form_tokens(second) == {other_browser.cookies["csrftoken"]}
    assert _form_tokens(first) != _form_tokens(second)
    assert saved.status_code == 303


async def test_the_tools_follow_the_filter_and_the_language(client: AsyncClient, world: World) -> None:
    await sign_in(client, "alice@example.com")
    plain = (await client.get(LIST)).text
    filtered = (await client.get(LIST, params={"filter": 'city[eq]:"Riyadh"'})).text
    await client.get("/language/ar", params={"next": LIST})
    arabic = (await client.get(LIST, params={"filter": 'city[eq]:"Riyadh"'})).text

    assert 'value="Riyadh"' not in plain
    assert 'value="Riyadh" aria-label="Value"' in filtered
    assert "Clear the filter" in filtered
    assert "Clear the filter" not in plain
    assert "Add a condition" in filtered
    assert "Add a condition" not in arabic
    assert _view_tabs(arabic) == ["كل العملاء"]
    assert 'value="Riyadh"' in arabic


async def test_a_private_view_stays_with_its_owner_among_people_of_the_same_role(
    client: AsyncClient, world: World
) -> None:
    await add_member(world.acme, "dana@example.com")  # a member, as bob is
    await sign_in(client, "bob@example.com")
    saved = await client.post(f"{LIST}/views", data={"name": "Bob's own"}, headers=_token(client))
    bob_page = (await client.get(LIST)).text

    await _sign_out(client)  # a shop's shared computer: the same browser, the same CSRF token
    await sign_in(client, "dana@example.com")
    dana_page = (await client.get(LIST)).text

    assert saved.status_code == 303
    assert _view_tabs(bob_page) == ["Bob&#39;s own", "All customers"]
    assert _view_tabs(dana_page) == ["All customers"]


async def test_a_member_made_admin_gets_the_admin_tools_on_the_next_page(client: AsyncClient, world: World) -> None:
    await sign_in(client, "bob@example.com")
    as_member = (await client.get(LIST)).text
    team = await accounts.memberships_of_tenant(world.acme.id)
    alice, bob = (next(m for m in team if m.email == email) for email in ("alice@example.com", "bob@example.com"))
    # As the team page does it: through the service, which forgets bob's remembered membership in this process at
    # once (a change written straight to the table is only seen when the registry's notice arrives).
    await accounts_services.change_role(world.acme, alice, bob.id, "admin")
    as_admin = (await client.get(LIST)).text

    assert "Share it with the team" not in as_member
    assert "Share it with the team" in as_admin


async def test_a_page_that_cannot_be_read_opens_the_filter_tools_and_the_next_one_does_not(
    client: AsyncClient, world: World
) -> None:
    await sign_in(client, "alice@example.com")
    broken = await client.get(LIST, params={"cursor": "not-a-cursor"})
    fine = await client.get(LIST)

    assert broken.status_code == 400
    assert '<details class="list-tool" open>' in broken.text
    assert fine.status_code == 200
    assert '<details class="list-tool" open>' not in fine.text


def _sort_links(page: str) -> list[str]:
    return re.findall(r'<a href="([^"]+)" class="sort-link"', page)


async def test_the_column_headers_sort_within_the_filter_and_speak_the_language(
    client: AsyncClient, world: World
) -> None:
    await sign_in(client, "alice@example.com")
    plain = (await client.get(LIST)).text
    filtered = (await client.get(LIST, params={"filter": 'city[eq]:"Riyadh"'})).text
    await client.get("/language/ar", params={"next": LIST})
    arabic = (await client.get(LIST)).text

    assert _sort_links(plain)
    assert not any("filter=" in link for link in _sort_links(plain))
    assert all("filter=city" in link for link in _sort_links(filtered))
    assert 'City<span class="sort-mark"' in plain
    assert 'City<span class="sort-mark"' not in arabic
    assert 'المدينة<span class="sort-mark"' in arabic


async def test_the_filter_builder_offers_a_select_fields_options_as_they_are_now(
    client: AsyncClient, world: World, settings: Settings
) -> None:
    """The builder's fields and options are made once per process for each object definition and language
    (`list_tools`): a changed option is a new definition, so it shows on the next page, in either language."""
    async with crm_connection(world.acme, settings) as connection:
        await schema_changes.add_field(connection, world.acme, "people", LOYALTY_TIER)
    await sign_in(client, "alice@example.com")
    before = (await client.get(LIST)).text
    async with crm_connection(world.acme, settings) as connection:
        options = (
            SelectOption("gold", "Golden", "ذهبي لامع", Color.YELLOW),
            SelectOption("silver", "Silver", "فضي", Color.GRAY),
        )
        await schema_changes.change_field(
            connection, world.acme, "people", "tier", schema_changes.FieldChanges(options=options)
        )
    after = (await client.get(LIST)).text
    await client.get("/language/ar", params={"next": LIST})
    arabic = (await client.get(LIST)).text

    assert _builder_options(before, "tier") == ["Gold"]
    assert _builder_options(after, "tier") == ["Golden", "Silver"]
    assert _builder_options(arabic, "tier") == ["ذهبي لامع", "فضي"]
