from __future__ import annotations

import uuid

from httpx import AsyncClient

from app.accounts import api_keys
from app.crm import records
from app.crm.fields import FieldDefinition
from app.crm.metadata import ObjectDefinition, load_catalogue
from app.crm.search import search_everything
from app.crm.services import crm_connection
from app.settings import Settings
from tests.conftest import World


async def _acme(client: AsyncClient, world: World) -> dict[str, str]:
    _, key = await api_keys.create_api_key(world.acme.id, "acme", name="search", actor="test")
    headers = {"Authorization": f"Bearer {key}"}
    for person in (
        {"first_name": "أحمد", "last_name": "الغامدي", "phone": "0501234567"},
        {"first_name": "Zoë", "last_name": "Müller", "email": "zoe@example.com"},
        {"first_name": "فاطمة", "city": "جدة"},
    ):
        assert (await client.post("/api/v1/people", json=person, headers=headers)).status_code == 201
    await client.post("/api/v1/products", json={"name": "دهن عود أحمد", "sku": "OUD-AHMED"}, headers=headers)
    return headers


async def _names(client: AsyncClient, headers: dict[str, str], q: str) -> dict[str, list[str]]:
    response = await client.get("/api/v1/search", params={"q": q}, headers=headers)
    assert response.status_code == 200, response.text
    return {
        name: [record.get("first_name") or record.get("name") for record in records]
        for name, records in response.json()["results"].items()
    }


async def test_arabic_spelling_variants_find_each_other(client: AsyncClient, world: World) -> None:
    headers = await _acme(client, world)

    assert await _names(client, headers, "احمد") == {"people": ["أحمد"], "products": ["دهن عود أحمد"]}
    assert (await _names(client, headers, "فاطمه"))["people"] == ["فاطمة"]
    assert (await _names(client, headers, "الغامدى"))["people"] == ["أحمد"]


async def test_latin_ignores_case_and_accents(client: AsyncClient, world: World) -> None:
    headers = await _acme(client, world)

    assert (await _names(client, headers, "ZOE"))["people"] == ["Zoë"]
    assert (await _names(client, headers, "muller"))["people"] == ["Zoë"]


async def test_a_phone_number_is_found_in_any_common_notation(client: AsyncClient, world: World) -> None:
    headers = await _acme(client, world)

    for typed in ("0501234567", "+966 50 123 4567", "00966501234567", "٠٥٠١٢٣٤٥٦٧", "50 123 45"):
        assert (await _names(client, headers, typed)).get("people") == ["أحمد"], typed


async def test_another_tenant_finds_nothing_of_acme(client: AsyncClient, world: World) -> None:
    await _acme(client, world)
    _, noor = await api_keys.create_api_key(world.noor.id, "noor", name="search", actor="test")

    assert await _names(client, {"Authorization": f"Bearer {noor}"}, "احمد") == {}


async def test_wildcards_are_literal_and_short_queries_are_refused(client: AsyncClient, world: World) -> None:
    headers = await _acme(client, world)

    assert await _names(client, headers, "%%") == {}
    assert await _names(client, headers, "__") == {}  # unescaped, any two characters
    too_short = await client.get("/api/v1/search", params={"q": "a"}, headers=headers)
    assert too_short.status_code == 400


async def test_whole_words_rank_above_partial_ones(client: AsyncClient, world: World) -> None:
    _, key = await api_keys.create_api_key(world.acme.id, "acme", name="rank", actor="test")
    headers = {"Authorization": f"Bearer {key}"}
    for name in ("Samira", "Sam", "Samson"):  # the whole word "sam" is added between two partial matches
        await client.post("/api/v1/people", json={"first_name": name}, headers=headers)

    assert (await _names(client, headers, "sam"))["people"][0] == "Sam"


async def test_a_reader_that_shows_a_few_fields_gets_only_those(
    client: AsyncClient, world: World, settings: Settings
) -> None:
    await _acme(client, world)

    def name_and_city(obj: ObjectDefinition) -> list[FieldDefinition]:
        return [field for field in obj.fields if field.name in ("first_name", "city")]

    async with crm_connection(world.acme, settings) as connection:
        catalogue = await load_catalogue(connection)
        whole = (await search_everything(connection, catalogue, "فاطمة"))["people"][0]
        some = (await search_everything(connection, catalogue, "فاطمة", fields_of=name_and_city))["people"][0]

    assert some == {"id": whole["id"], "first_name": "فاطمة", "city": "جدة"}
    assert {"created_at", "email", "phone", "last_name"} <= set(whole)


async def test_a_hit_is_the_record_as_the_api_reads_it(client: AsyncClient, world: World, settings: Settings) -> None:
    headers = await _acme(client, world)
    answer = await client.post(
        "/api/v1/people",
        json={
            "first_name": "Reem",
            "email": {"primary": "reem@example.com", "additional": ["reem@work.example"]},
            "phone": {"primary": "0551234567", "additional": ["0561234567"]},
        },
        headers=headers,
    )
    assert answer.status_code == 201, answer.text

    async with crm_connection(world.acme, settings) as connection:
        catalogue = await load_catalogue(connection)
        for term in ("reem", "فاطمة"):
            hit = (await search_everything(connection, catalogue, term))["people"][0]
            assert hit == await records.get_record(connection, catalogue.objects["people"], uuid.UUID(hit["id"]))
    assert hit["city"] == "جدة"
