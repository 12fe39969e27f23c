from __future__ import annotations

import httpx

from app.salla.sandbox import Sandbox
from tests.salla.conftest import SANDBOX_MERCHANT


async def test_it_pages_15_by_default_newest_first_in_salla_s_envelope(sandbox_api: httpx.AsyncClient) -> None:
    response = await sandbox_api.get("/customers")

    body = response.json()
    assert response.status_code == 200
    assert set(body) == {"status", "success", "data", "pagination"}
    assert body["status"] == 200
    assert body["success"] is True
    assert body["pagination"]["count"] == 15
    assert body["pagination"]["total"] == 40
    assert body["pagination"]["perPage"] == 15
    assert body["pagination"]["currentPage"] == 1
    assert body["pagination"]["totalPages"] == 3
    ids = [customer["id"] for customer in body["data"]]
    assert ids == sorted(ids, reverse=True)
    assert httpx.URL(body["pagination"]["links"]["next"]).params["page"] == "2"
    assert "previous" not in body["pagination"]["links"]


async def test_it_caps_per_page_at_60(sandbox: Sandbox) -> None:
    sandbox.add_store(merchant_id=77, username="big", name="متجر كبير", owner_email="a@b.sa", orders=130, seed=3)
    token = sandbox.issue_tokens(77)["access_token"]
    transport = httpx.ASGITransport(app=sandbox.asgi)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://sandbox/admin/v2", headers={"Authorization": f"Bearer {token}"}
    ) as api:
        pages = [(await api.get("/orders", params={"page": page, "per_page": 100})).json() for page in (1, 2, 3)]

    assert [page["pagination"]["count"] for page in pages] == [60, 60, 10]
    assert {page["pagination"]["perPage"] for page in pages} == {60}
    assert {page["pagination"]["totalPages"] for page in pages} == {3}
    seen = [order["id"] for page in pages for order in page["data"]]
    assert seen == sandbox.store(77).order_ids()


async def test_walking_every_page_sees_each_record_once(sandbox: Sandbox, sandbox_api: httpx.AsyncClient) -> None:
    seen: list[int] = []
    page = 1
    while True:
        body = (await sandbox_api.get("/customers", params={"page": page, "per_page": 7})).json()
        seen += [customer["id"] for customer in body["data"]]
        if body["pagination"]["currentPage"] >= body["pagination"]["totalPages"]:
            break
        page += 1

    assert page == 6
    assert len(seen) == len(set(seen)) == 40
    assert seen == sandbox.store(SANDBOX_MERCHANT).customer_ids()


async def test_the_last_page_links_back_and_a_page_past_the_end_is_empty(sandbox_api: httpx.AsyncClient) -> None:
    last = (await sandbox_api.get("/products", params={"page": 2})).json()
    past = (await sandbox_api.get("/products", params={"page": 9})).json()

    assert last["pagination"]["count"] == 5
    assert set(last["pagination"]["links"]) == {"previous"}
    assert past["data"] == []
    assert past["pagination"]["count"] == 0
    assert past["pagination"]["currentPage"] == 9
    assert past["pagination"]["links"] == []  # PHP's empty array, as Salla sends it


async def test_nonsense_paging_falls_back_to_the_defaults(sandbox_api: httpx.AsyncClient) -> None:
    body = (await sandbox_api.get("/customers", params={"page": "zero", "per_page": "-4"})).json()

    assert body["pagination"]["currentPage"] == 1
    assert body["pagination"]["perPage"] == 15


async def test_a_missing_record_is_a_404_in_the_error_envelope(sandbox_api: httpx.AsyncClient) -> None:
    response = await sandbox_api.get("/customers/1")

    assert response.status_code == 404
    assert response.json()["success"] is False
    assert response.json()["status"] == 404
    assert response.json()["error"]["code"] == "not_found"
    assert response.json()["error"]["message"]
