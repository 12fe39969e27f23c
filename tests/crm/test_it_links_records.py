from __future__ import annotations

from httpx import AsyncClient

from app.accounts import api_keys
from tests.conftest import World


async def _acme(world: World) -> dict[str, str]:
    _, key = await api_keys.create_api_key(world.acme.id, "acme", name="links", actor="test")
    return {"Authorization": f"Bearer {key}"}


async def _create(client: AsyncClient, headers: dict[str, str], object_name: str, body: dict[str, object]) -> str:
    response = await client.post(f"/api/v1/{object_name}", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_notes_tasks_and_orders_appear_on_the_customer_they_belong_to(client: AsyncClient, world: World) -> None:
    acme = await _acme(world)
    customer = await _create(client, acme, "people", {"first_name": "Layla"})
    note = await _create(client, acme, "notes", {"title": "Prefers WhatsApp", "body": "<p>after 6pm</p>"})
    task = await _create(client, acme, "tasks", {"title": "Send the Eid offer", "status": "todo"})
    await _create(client, acme, "orders", {"reference": "2001", "customer": customer})

    first = await client.post(f"/api/v1/people/{customer}/links", json={"object": "notes", "id": note}, headers=acme)
    again = await client.post(f"/api/v1/people/{customer}/links", json={"object": "notes", "id": note}, headers=acme)
    await client.post(f"/api/v1/tasks/{task}/links", json={"object": "people", "id": customer}, headers=acme)
    related = (await client.get(f"/api/v1/people/{customer}/related", headers=acme)).json()["data"]

    assert (first.status_code, again.status_code) == (201, 200)
    assert [n["title"] for n in related["notes"]] == ["Prefers WhatsApp"]
    assert [t["title"] for t in related["tasks"]] == ["Send the Eid offer"]
    assert [o["reference"] for o in related["orders"]] == ["2001"]
    timeline = (await client.get(f"/api/v1/people/{customer}/timeline", headers=acme)).json()["data"]
    assert [event["kind"] for event in timeline].count("linked") == 2


async def test_a_link_can_be_removed_and_a_deleted_note_drops_out(client: AsyncClient, world: World) -> None:
    acme = await _acme(world)
    customer = await _create(client, acme, "people", {"first_name": "Layla"})
    kept = await _create(client, acme, "notes", {"title": "kept"})
    unlinked = await _create(client, acme, "notes", {"title": "unlinked"})
    deleted = await _create(client, acme, "notes", {"title": "deleted"})
    for note in (kept, unlinked, deleted):
        await client.post(f"/api/v1/people/{customer}/links", json={"object": "notes", "id": note}, headers=acme)

    removed = await client.delete(f"/api/v1/people/{customer}/links/notes/{unlinked}", headers=acme)
    await client.delete(f"/api/v1/notes/{deleted}", headers=acme)
    related = (await client.get(f"/api/v1/people/{customer}/related", headers=acme)).json()["data"]

    assert removed.status_code == 204
    assert [n["title"] for n in related["notes"]] == ["kept"]


async def test_links_to_missing_or_foreign_records_are_refused(client: AsyncClient, world: World) -> None:
    acme = await _acme(world)
    _, noor_key = await api_keys.create_api_key(world.noor.id, "noor", name="links", actor="test")
    noor = {"Authorization": f"Bearer {noor_key}"}
    customer = await _create(client, acme, "people", {"first_name": "Layla"})
    noor_note = await _create(client, noor, "notes", {"title": "noor's"})

    foreign = await client.post(
        f"/api/v1/people/{customer}/links", json={"object": "notes", "id": noor_note}, headers=acme
    )
    itself = await client.post(
        f"/api/v1/people/{customer}/links", json={"object": "people", "id": customer}, headers=acme
    )
    bad_relation = await client.post(
        f"/api/v1/people/{customer}/links",
        json={"object": "notes", "id": noor_note, "relation": "x; drop"},
        headers=acme,
    )

    assert foreign.status_code == 404
    assert itself.status_code == 400
    assert bad_relation.status_code == 400


async def test_a_customers_related_records_are_its_own_newest_live_ones(client: AsyncClient, world: World) -> None:
    """Records whose relation fields point at the customer (orders, deals): newest changed first, at most 20 of
    each, never a deleted one, never another customer's."""
    acme = await _acme(world)
    layla = await _create(client, acme, "people", {"first_name": "Layla"})
    huda = await _create(client, acme, "people", {"first_name": "Huda"})
    orders = [await _create(client, acme, "orders", {"reference": f"L-{n}", "customer": layla}) for n in range(22)]
    await _create(client, acme, "orders", {"reference": "H-1", "customer": huda})
    await _create(client, acme, "opportunities", {"name": "Eid hampers", "point_of_contact": layla})
    await client.delete(f"/api/v1/orders/{orders[21]}", headers=acme)
    changed = await client.patch(f"/api/v1/orders/{orders[0]}", json={"reference": "L-0b"}, headers=acme)

    related = (await client.get(f"/api/v1/people/{layla}/related", headers=acme)).json()["data"]

    assert changed.status_code == 200, changed.text
    assert [o["reference"] for o in related["orders"]] == ["L-0b", *(f"L-{n}" for n in range(20, 1, -1))]
    assert [d["name"] for d in related["opportunities"]] == ["Eid hampers"]
    assert set(related) == {"orders", "opportunities"}
