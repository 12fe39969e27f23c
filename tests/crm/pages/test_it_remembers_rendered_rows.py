"""A list page renders a row only once per process and shows it again from memory (app/crm/pages/list_rows.py):
whatever changes what a row shows (its record, the name of a record it links to, the field's definition, the
language) must show on the next page all the same."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from httpx import AsyncClient

from app.crm import records, schema_changes
from app.crm.fields import Color, FieldDefinition, FieldType, SelectOption
from app.crm.metadata import ObjectDefinition, load_catalogue
from app.crm.pages.list_rows import row_reader
from app.crm.records import Actor
from app.crm.services import crm_connection
from app.settings import Settings
from tests.conftest import World
from tests.crm.fields import LOYALTY_TIER as TIER
from tests.people import sign_in

SYSTEM = Actor(source="system")


@pytest.fixture
async def acme(client: AsyncClient, world: World, settings: Settings) -> AsyncIterator[asyncpg.Connection]:
    async with crm_connection(world.acme, settings) as connection:
        yield connection


async def _object(connection: asyncpg.Connection, name: str) -> ObjectDefinition:
    obj = (await load_catalogue(connection)).get(name)
    assert obj is not None
    return obj


def _cells(page: str, field: str) -> list[str]:
    return re.findall(rf'<td data-field-slot data-field="{field}" tabindex="0">(.*?)</td>', page)


async def test_it_shows_a_changed_record_and_a_renamed_related_record(
    client: AsyncClient, acme: asyncpg.Connection
) -> None:
    company = await records.create_record(acme, await _object(acme, "companies"), {"name": "Dar Al-Tamr"}, SYSTEM)
    people = await _object(acme, "people")
    sara = await records.create_record(
        acme, people, {"first_name": "Sara", "city": "Jeddah", "company": company["id"]}, SYSTEM
    )
    await sign_in(client, "alice@example.com")
    url = "/t/acme/o/people?columns=city,company"
    first = (await client.get(url)).text

    await records.update_record(acme, people, uuid.UUID(sara["id"]), {"city": "Riyadh"}, SYSTEM)
    moved = (await client.get(url)).text
    await records.update_record(
        acme, await _object(acme, "companies"), uuid.UUID(company["id"]), {"name": "Tamr House"}, SYSTEM
    )
    renamed = (await client.get(url)).text

    assert (_cells(first, "city"), _cells(first, "company")) == (["Jeddah"], ["Dar Al-Tamr"])
    assert (_cells(moved, "city"), _cells(moved, "company")) == (["Riyadh"], ["Dar Al-Tamr"])
    assert (_cells(renamed, "city"), _cells(renamed, "company")) == (["Riyadh"], ["Tamr House"])


async def test_it_shows_a_renamed_option_and_the_other_language(
    client: AsyncClient, acme: asyncpg.Connection, world: World
) -> None:
    await schema_changes.add_field(acme, world.acme, "people", TIER)
    await records.create_record(acme, await _object(acme, "people"), {"first_name": "Huda", "tier": "gold"}, SYSTEM)
    await sign_in(client, "alice@example.com")
    url = "/t/acme/o/people?columns=tier"
    first = (await client.get(url)).text

    renamed_option = SelectOption("gold", "Golden", "ذهبي لامع", Color.YELLOW)
    await schema_changes.change_field(
        acme, world.acme, "people", "tier", schema_changes.FieldChanges(options=(renamed_option,))
    )
    renamed = (await client.get(url)).text
    await client.get("/language/ar?next=/")
    arabic = (await client.get(url)).text

    assert _cells(first, "tier") == ['<span class="chip chip-yellow">Gold</span>']
    assert _cells(renamed, "tier") == ['<span class="chip chip-yellow">Golden</span>']
    assert _cells(arabic, "tier") == ['<span class="chip chip-yellow">ذهبي لامع</span>']


async def test_it_shows_a_changed_list_inside_a_json_column(client: AsyncClient, acme: asyncpg.Connection) -> None:
    people = await _object(acme, "people")
    email = {"primary": "nora@example.sa", "additional": ["nora@work.sa"]}
    nora = await records.create_record(acme, people, {"first_name": "Nora", "email": email}, SYSTEM)
    await sign_in(client, "alice@example.com")
    url = "/t/acme/o/people?columns=email"
    first = (await client.get(url)).text

    more = {"primary": "nora@example.sa", "additional": ["nora@work.sa", "nora@home.sa"]}
    await records.update_record(acme, people, uuid.UUID(nora["id"]), {"email": more}, SYSTEM)
    second = (await client.get(url)).text
    again = (await client.get(url)).text

    shown = '<a href="mailto:nora@example.sa" dir="ltr">nora@example.sa</a> <small class="muted">+{}</small>'
    assert _cells(first, "email") == [shown.format(1)]
    assert _cells(second, "email") == _cells(again, "email") == [shown.format(2)]


def test_json_values_make_a_key_by_their_content() -> None:
    emails = FieldDefinition(name="emails", type=FieldType.EMAILS, label_en="E-mail", label_ar="البريد")
    owner = ObjectDefinition("contacts", "contact", "contacts", "Contact", "جهة", "Contacts", "جهات", True, (emails,))
    key_of = row_reader(owner, [emails])

    def key(row: dict[str, object]) -> tuple[object, ...]:
        return key_of(row)  # a list as read is not hashable: the reader makes it so

    first = key({"id": 1, "emails_primary": "a@example.com", "emails_additional": ["b@example.com", "c@x.sa"]})
    same = key({"id": 1, "emails_primary": "a@example.com", "emails_additional": ["b@example.com", "c@x.sa"]})
    other = key({"id": 1, "emails_primary": "a@example.com", "emails_additional": ["b@example.com"]})
    another_record = key({"id": 2, "emails_primary": "a@example.com", "emails_additional": ["b@example.com"]})

    assert hash(first) == hash(same)
    assert first == same
    assert len({first, other, another_record}) == 3
    assert row_reader(owner, [emails]) is key_of  # made once per definition and fields
