from __future__ import annotations

import re

from httpx import AsyncClient

from tests.conftest import World
from tests.people import sign_in


async def test_an_owner_creates_a_key_sees_it_once_and_it_works(client: AsyncClient, world: World) -> None:
    await sign_in(client, "alice@example.com")
    token = {"x-csrftoken": client.cookies["csrftoken"]}

    created = await client.post("/t/acme/settings/api-keys", data={"name": "Zapier"}, headers=token)
    key = re.search(r'id="new-api-key">([^<]+)<', created.text)
    listed = await client.get("/t/acme/settings/api-keys")

    assert created.status_code == 201
    assert key is not None
    assert key[1] not in listed.text  # shown once, never again
    assert "Zapier" in listed.text
    used = await client.get("/api/v1/workspace", headers={"Authorization": f"Bearer {key[1]}"})
    assert used.json()["slug"] == "acme"


async def test_an_owner_revokes_a_key(client: AsyncClient, world: World) -> None:
    await sign_in(client, "alice@example.com")
    token = {"x-csrftoken": client.cookies["csrftoken"]}
    created = await client.post("/t/acme/settings/api-keys", data={"name": "Old"}, headers=token)
    key = re.search(r'id="new-api-key">([^<]+)<', created.text)
    key_id = re.search(r"/settings/api-keys/([0-9a-f-]{36})/revoke", created.text)
    assert key is not None
    assert key_id is not None

    revoked = await client.post(f"/t/acme/settings/api-keys/{key_id[1]}/revoke", headers=token)

    assert revoked.status_code == 200
    assert (await client.get("/api/v1/workspace", headers={"Authorization": f"Bearer {key[1]}"})).status_code == 401


async def test_a_member_cannot_manage_keys_and_another_tenant_finds_nothing(client: AsyncClient, world: World) -> None:
    await sign_in(client, "bob@example.com")
    bob_page = await client.get("/t/acme/settings/api-keys")
    bob_create = await client.post(
        "/t/acme/settings/api-keys", data={"name": "x"}, headers={"x-csrftoken": client.cookies["csrftoken"]}
    )
    client.cookies.clear()
    await sign_in(client, "charlie@example.com")
    charlie_page = await client.get("/t/acme/settings/api-keys")

    assert bob_page.status_code == 403
    assert bob_create.status_code == 403
    assert charlie_page.status_code == 404
