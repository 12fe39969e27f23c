"""The REST API for records, as an integrator uses it with an API key."""

from __future__ import annotations

from httpx import AsyncClient

from app.accounts import api_keys
from tests.conftest import World


async def _keys(world: World) -> tuple[dict[str, str], dict[str, str]]:
    _, acme = await api_keys.create_api_key(world.acme.id, "acme", name="acme erp", actor="test")
    _, noor = await api_keys.create_api_key(world.noor.id, "noor", name="noor erp", actor="test")
    return {"Authorization": f"Bearer {acme}"}, {"Authorization": f"Bearer {noor}"}


async def test_an_integrator_creates_reads_changes_deletes_and_restores_a_customer(
    client: AsyncClient, world: World
) -> None:
    acme, _ = await _keys(world)

    created = await client.post(
        "/api/v1/people", json={"first_name": "Sara", "phone": "+966 50 123 4567", "city": "جدة"}, headers=acme
    )
    assert created.status_code == 201, created.text
    person_id = created.json()["id"]
    assert created.json()["phone"]["primary"] == "+966501234567"
    assert created.json()["created_by"]["source"] == "api_key"

    read = await client.get(f"/api/v1/people/{person_id}", headers=acme)
    changed = await client.patch(f"/api/v1/people/{person_id}", json={"city": "الرياض"}, headers=acme)
    deleted = await client.delete(f"/api/v1/people/{person_id}", headers=acme)
    gone = await client.get(f"/api/v1/people/{person_id}", headers=acme)
    restored = await client.post(f"/api/v1/people/{person_id}/restore", headers=acme)

    assert read.json()["first_name"] == "Sara"
    assert changed.json()["city"] == "الرياض"
    assert deleted.status_code == 204
    assert gone.status_code == 404
    assert restored.status_code == 200
    assert restored.json()["deleted_at"] is None


async def test_a_key_of_noor_never_reads_an_acme_record(client: AsyncClient, world: World) -> None:
    acme, noor = await _keys(world)
    created = await client.post("/api/v1/products", json={"name": "Oud oil", "sku": "OUD-1"}, headers=acme)
    product_id = created.json()["id"]

    read = await client.get(f"/api/v1/products/{product_id}", headers=noor)
    changed = await client.patch(f"/api/v1/products/{product_id}", json={"sku": "X"}, headers=noor)
    deleted = await client.delete(f"/api/v1/products/{product_id}", headers=noor)

    assert (read.status_code, changed.status_code, deleted.status_code) == (404, 404, 404)
    assert (await client.get(f"/api/v1/products/{product_id}", headers=acme)).json()["sku"] == "OUD-1"


async def test_invalid_fields_get_400_with_a_reason_per_field(client: AsyncClient, world: World) -> None:
    acme, _ = await _keys(world)

    response = await client.post(
        "/api/v1/opportunities",
        json={"name": "Deal", "stage": "won-ish", "amount": {"amount": "1.234", "currency": "SAR"}, "x": 1},
        headers=acme,
    )

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"stage", "amount", "x"}


async def test_unknown_objects_and_records_are_404(client: AsyncClient, world: World) -> None:
    acme, _ = await _keys(world)

    unknown_object = await client.get("/api/v1/spaceships/00000000-0000-0000-0000-000000000000", headers=acme)
    unknown_record = await client.get("/api/v1/people/00000000-0000-0000-0000-000000000000", headers=acme)
    no_key = await client.get("/api/v1/people/00000000-0000-0000-0000-000000000000")

    assert unknown_object.status_code == 404
    assert unknown_record.status_code == 404
    assert no_key.status_code == 401


async def test_a_body_that_is_not_an_object_is_a_400(client: AsyncClient, world: World) -> None:
    acme, _ = await _keys(world)

    response = await client.post("/api/v1/people", json=["not", "an", "object"], headers=acme)

    assert response.status_code == 400


async def test_an_integrator_filters_sorts_and_pages_through_customers(client: AsyncClient, world: World) -> None:
    acme, noor = await _keys(world)
    cities = ["الرياض", "جدة", "الرياض", "Dammam", "الرياض", None, "جدة"]
    for number, city in enumerate(cities):
        body = {"first_name": f"Customer {number}", "last_name": f"L{number % 3}"} | ({"city": city} if city else {})
        assert (await client.post("/api/v1/people", json=body, headers=acme)).status_code == 201
    await client.post("/api/v1/people", json={"first_name": "Noor's own", "city": "الرياض"}, headers=noor)

    seen, cursor, totals = [], None, []
    while True:
        params = {"filter": 'city[eq]:"الرياض"', "sort": "last_name:desc,first_name", "limit": "2", "total": "true"}
        response = await client.get(
            "/api/v1/people", params=params | ({"cursor": cursor} if cursor else {}), headers=acme
        )
        assert response.status_code == 200, response.text
        seen += [person["first_name"] for person in response.json()["data"]]
        totals.append(response.json()["total"])
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break

    assert seen == ["Customer 2", "Customer 4", "Customer 0"]
    assert set(totals) == {3}


async def test_a_json_filter_tree_works_too(client: AsyncClient, world: World) -> None:
    acme, _ = await _keys(world)
    for name, stage in (("A", "new"), ("B", "proposal"), ("C", "customer")):
        await client.post("/api/v1/opportunities", json={"name": name, "stage": stage}, headers=acme)

    response = await client.get(
        "/api/v1/opportunities",
        params={"filter": '{"not": {"field": "stage", "op": "in", "value": ["new", "customer"]}}'},
        headers=acme,
    )

    assert [deal["name"] for deal in response.json()["data"]] == ["B"]


async def test_bad_filters_sorts_limits_and_cursors_are_400_with_the_reason(client: AsyncClient, world: World) -> None:
    acme, _ = await _keys(world)

    for params, reason in (
        ({"filter": "shoe_size[eq]:42"}, "shoe_size"),
        ({"filter": 'city[is_null]:"yes"'}, ""),
        ({"filter": "city[eq]:"}, ""),
        ({"filter": 'name; DROP TABLE people; --[eq]:"x"'}, ""),
        ({"sort": "city:sideways"}, ""),
        ({"limit": "201"}, "200"),
        ({"cursor": "not-a-cursor"}, "cursor"),
    ):
        response = await client.get("/api/v1/people", params=params, headers=acme)
        assert response.status_code == 400, (params, response.text)
        assert reason in response.json()["detail"]

    still_there = await client.get("/api/v1/people", headers=acme)
    assert still_there.status_code == 200


async def test_values_are_matched_literally(client: AsyncClient, world: World) -> None:
    acme, _ = await _keys(world)
    await client.post("/api/v1/people", json={"first_name": "100% real"}, headers=acme)
    await client.post("/api/v1/people", json={"first_name": "Robert'); DROP TABLE people;--"}, headers=acme)

    percent = await client.get("/api/v1/people", params={"filter": 'first_name[contains]:"%"'}, headers=acme)
    quote = await client.get("/api/v1/people", params={"filter": 'first_name[contains]:"\');"'}, headers=acme)

    assert [p["first_name"] for p in percent.json()["data"]] == ["100% real"]
    assert [p["first_name"] for p in quote.json()["data"]] == ["Robert'); DROP TABLE people;--"]


async def test_a_records_timeline_shows_each_change_with_who_made_it(client: AsyncClient, world: World) -> None:
    acme, noor = await _keys(world)
    created = await client.post("/api/v1/opportunities", json={"name": "Ramadan", "stage": "new"}, headers=acme)
    deal = created.json()["id"]
    await client.patch(f"/api/v1/opportunities/{deal}", json={"stage": "meeting"}, headers=acme)

    timeline = await client.get(f"/api/v1/opportunities/{deal}/timeline", headers=acme)
    foreign = await client.get(f"/api/v1/opportunities/{deal}/timeline", headers=noor)

    events = timeline.json()["data"]
    assert [event["kind"] for event in events] == ["updated", "created"]
    assert events[0]["changes"] == {"stage": ["new", "meeting"]}
    assert events[0]["actor"]["source"] == "api_key"
    assert events[0]["actor"]["name"] == "acme erp"
    assert foreign.status_code == 404


async def test_a_batch_is_created_whole_or_not_at_all(client: AsyncClient, world: World) -> None:
    acme, _ = await _keys(world)

    refused = await client.post(
        "/api/v1/products/batch",
        json={"records": [{"name": "Musk"}, {"name": "Amber", "price": {"amount": "1.999", "currency": "SAR"}}, {}]},
        headers=acme,
    )
    created = await client.post(
        "/api/v1/products/batch", json={"records": [{"name": f"Perfume {n}"} for n in range(60)]}, headers=acme
    )
    listed = await client.get("/api/v1/products", params={"total": "true", "limit": "1"}, headers=acme)

    assert refused.status_code == 400
    assert set(refused.json()["errors"]) == {"1", "2"}
    assert created.status_code == 201
    assert len(created.json()["data"]) == 60
    assert listed.json()["total"] == 60


async def test_bulk_update_and_delete(client: AsyncClient, world: World) -> None:
    acme, noor = await _keys(world)
    created = await client.post(
        "/api/v1/tasks/batch",
        json={"records": [{"title": f"Call {n}", "status": "todo"} for n in range(5)]},
        headers=acme,
    )
    ids = [task["id"] for task in created.json()["data"]]

    done = await client.patch("/api/v1/tasks/batch", json={"ids": ids[:3], "changes": {"status": "done"}}, headers=acme)
    foreign = await client.post("/api/v1/tasks/batch/delete", json={"ids": ids}, headers=noor)
    removed = await client.post("/api/v1/tasks/batch/delete", json={"ids": ids[3:]}, headers=acme)
    remaining = await client.get("/api/v1/tasks", params={"sort": "title"}, headers=acme)

    assert {task["status"] for task in done.json()["data"]} == {"done"}
    assert foreign.status_code == 404
    assert removed.status_code == 204
    assert [(t["title"], t["status"]) for t in remaining.json()["data"]] == [
        ("Call 0", "done"),
        ("Call 1", "done"),
        ("Call 2", "done"),
    ]


async def test_an_oversized_batch_is_refused(client: AsyncClient, world: World) -> None:
    acme, _ = await _keys(world)

    response = await client.post("/api/v1/notes/batch", json={"records": [{"title": "x"}] * 201}, headers=acme)

    assert response.status_code == 400
    assert "200" in response.text


async def test_a_value_a_unique_field_already_has_is_a_400_not_a_500(client: AsyncClient, world: World) -> None:
    acme, _ = await _keys(world)
    first = await client.post("/api/v1/products", json={"name": "Musk", "salla_id": "p-1"}, headers=acme)
    second = await client.post("/api/v1/products", json={"name": "Amber", "salla_id": "p-2"}, headers=acme)

    taken = await client.post("/api/v1/products", json={"name": "Oud", "salla_id": "p-1"}, headers=acme)
    changed = await client.patch(f"/api/v1/products/{second.json()['id']}", json={"salla_id": "p-1"}, headers=acme)

    assert first.status_code == 201
    assert taken.status_code == 400
    assert taken.json()["errors"] == {"salla_id": "is already used by another record"}
    assert changed.status_code == 400
