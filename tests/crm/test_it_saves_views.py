from __future__ import annotations

from httpx import AsyncClient

from app.accounts import api_keys
from tests.conftest import World


async def _acme(world: World) -> dict[str, str]:
    _, key = await api_keys.create_api_key(world.acme.id, "acme", name="views", actor="test")
    return {"Authorization": f"Bearer {key}"}


async def test_every_tenant_starts_with_useful_views(client: AsyncClient, world: World) -> None:
    acme = await _acme(world)

    response = await client.get("/api/v1/views", headers=acme)

    labels = {(view["object"], view["label_en"]) for view in response.json()["data"]}
    assert ("people", "All customers") in labels
    assert ("tasks", "My open tasks") in labels
    pipeline = next(v for v in response.json()["data"] if v["label_en"] == "Pipeline by stage")
    assert pipeline["kind"] == "kanban"
    assert pipeline["group_by"] == "stage"
    assert pipeline["label_ar"] == "الصفقات حسب المرحلة"


async def test_a_saved_view_shows_its_records_with_its_filter_and_sorts(client: AsyncClient, world: World) -> None:
    acme = await _acme(world)
    for name, city in (("Hind", "جدة"), ("Omar", "الرياض"), ("Amal", "جدة")):
        await client.post("/api/v1/people", json={"first_name": name, "city": city}, headers=acme)

    created = await client.post(
        "/api/v1/views",
        json={
            "object": "people",
            "label_en": "Jeddah customers",
            "label_ar": "عملاء جدة",
            "filter": {"field": "city", "op": "eq", "value": "جدة"},
            "sorts": [{"field": "first_name", "direction": "asc"}],
            "columns": ["first_name", "city"],
        },
        headers=acme,
    )
    assert created.status_code == 201, created.text
    shown = await client.get(f"/api/v1/views/{created.json()['id']}/records", params={"total": "true"}, headers=acme)

    assert [person["first_name"] for person in shown.json()["data"]] == ["Amal", "Hind"]
    assert shown.json()["total"] == 2


async def test_a_view_can_be_changed_and_deleted(client: AsyncClient, world: World) -> None:
    acme = await _acme(world)
    view = (
        await client.post(
            "/api/v1/views", json={"object": "products", "label_en": "All", "label_ar": "الكل"}, headers=acme
        )
    ).json()

    changed = await client.patch(f"/api/v1/views/{view['id']}", json={"label_en": "Everything"}, headers=acme)
    deleted = await client.delete(f"/api/v1/views/{view['id']}", headers=acme)
    gone = await client.get(f"/api/v1/views/{view['id']}/records", headers=acme)

    assert changed.json()["label_en"] == "Everything"
    assert deleted.status_code == 204
    assert gone.status_code == 404


async def test_bad_views_are_refused_with_the_reason(client: AsyncClient, world: World) -> None:
    acme = await _acme(world)
    base = {"object": "opportunities", "label_en": "X", "label_ar": "س"}

    for body, reason in (
        ({**base, "object": "spaceships"}, "object"),
        ({**base, "kind": "kanban"}, "select field"),
        ({**base, "kind": "kanban", "group_by": "name"}, "select field"),
        ({**base, "columns": ["shoe_size"]}, "columns"),
        ({**base, "filter": {"field": "shoe_size", "op": "eq", "value": 1}}, "shoe_size"),
        ({**base, "sorts": [{"field": "stage", "direction": "sideways"}]}, "sort"),
        ({**base, "label_ar": ""}, "label_ar"),
    ):
        response = await client.post("/api/v1/views", json=body, headers=acme)
        assert response.status_code == 400, (body, response.text)
        assert reason in response.json()["detail"], (body, response.json()["detail"])


async def test_another_tenant_cannot_see_or_use_acme_views(client: AsyncClient, world: World) -> None:
    acme = await _acme(world)
    _, noor_key = await api_keys.create_api_key(world.noor.id, "noor", name="views", actor="test")
    noor = {"Authorization": f"Bearer {noor_key}"}
    view = (
        await client.post("/api/v1/views", json={"object": "people", "label_en": "A", "label_ar": "أ"}, headers=acme)
    ).json()

    assert (await client.get(f"/api/v1/views/{view['id']}/records", headers=noor)).status_code == 404
    assert (await client.patch(f"/api/v1/views/{view['id']}", json={"label_en": "x"}, headers=noor)).status_code == 404
    assert view["id"] not in [v["id"] for v in (await client.get("/api/v1/views", headers=noor)).json()["data"]]
