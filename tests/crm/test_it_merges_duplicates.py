from __future__ import annotations

from httpx import AsyncClient

from app.accounts import api_keys
from tests.conftest import World


async def _acme(world: World) -> dict[str, str]:
    _, key = await api_keys.create_api_key(world.acme.id, "acme", name="dedupe", actor="test")
    return {"Authorization": f"Bearer {key}"}


async def test_people_sharing_a_phone_or_an_email_are_duplicates(client: AsyncClient, world: World) -> None:
    acme = await _acme(world)
    first = (
        await client.post("/api/v1/people", json={"first_name": "Sara", "phone": "0501234567"}, headers=acme)
    ).json()
    await client.post("/api/v1/people", json={"first_name": "Sarah", "phone": "+966501234567"}, headers=acme)
    await client.post("/api/v1/people", json={"first_name": "S.", "email": "x@y.io"}, headers=acme)
    await client.post("/api/v1/people", json={"first_name": "Other", "phone": "0559999999"}, headers=acme)

    found = await client.get(f"/api/v1/people/{first['id']}/duplicates", headers=acme)

    assert [person["first_name"] for person in found.json()["data"]] == ["Sarah"]


async def test_merging_fills_gaps_moves_relations_and_deletes_the_duplicate(client: AsyncClient, world: World) -> None:
    acme = await _acme(world)
    keep = (
        await client.post("/api/v1/people", json={"first_name": "Sara", "phone": "0501234567"}, headers=acme)
    ).json()
    dupe = (
        await client.post(
            "/api/v1/people",
            json={"first_name": "Sarah", "phone": "0501234567", "email": "sara@example.com", "city": "جدة"},
            headers=acme,
        )
    ).json()
    order = (
        await client.post("/api/v1/orders", json={"reference": "1001", "customer": dupe["id"]}, headers=acme)
    ).json()

    merged = await client.post(f"/api/v1/people/{keep['id']}/merge", json={"duplicate_id": dupe["id"]}, headers=acme)

    assert merged.status_code == 200, merged.text
    assert merged.json()["first_name"] == "Sara"  # the primary's own value stays
    assert merged.json()["email"]["primary"] == "sara@example.com"  # gaps filled from the duplicate
    assert merged.json()["city"] == "جدة"
    assert (await client.get(f"/api/v1/orders/{order['id']}", headers=acme)).json()["customer"] == keep["id"]
    assert (await client.get(f"/api/v1/people/{dupe['id']}", headers=acme)).status_code == 404
    timeline = (await client.get(f"/api/v1/people/{keep['id']}/timeline", headers=acme)).json()["data"]
    assert timeline[0]["kind"] == "merged"


async def test_a_record_cannot_be_merged_into_itself_or_a_missing_one(client: AsyncClient, world: World) -> None:
    acme = await _acme(world)
    keep = (await client.post("/api/v1/companies", json={"name": "Noor"}, headers=acme)).json()

    itself = await client.post(f"/api/v1/companies/{keep['id']}/merge", json={"duplicate_id": keep["id"]}, headers=acme)
    missing = await client.post(
        f"/api/v1/companies/{keep['id']}/merge",
        json={"duplicate_id": "00000000-0000-0000-0000-000000000001"},
        headers=acme,
    )

    assert itself.status_code == 400
    assert missing.status_code == 404
