"""alice owns acme, bob is a member of acme, charlie owns noor (see tests/conftest.py `world`)."""

from __future__ import annotations

import dataclasses

import pytest
from httpx import AsyncClient
from litestar import Litestar

from app.accounts import repository
from app.factory import create_app
from app.settings import Settings
from tests.conftest import World, app_client
from tests.people import sign_in

ACME_PAGES = ["/t/acme/", "/t/acme/settings/members", "/t/acme/preparing/status"]


@pytest.mark.parametrize("path", ACME_PAGES)
async def test_charlie_gets_404_for_every_page_of_acme_by_path(client: AsyncClient, world: World, path: str) -> None:
    await sign_in(client, "charlie@example.com")

    response = await client.get(path)

    assert response.status_code == 404


async def test_charlie_gets_the_same_404_as_for_a_tenant_that_does_not_exist(client: AsyncClient, world: World) -> None:
    await sign_in(client, "charlie@example.com")

    existing = await client.get("/t/acme/", headers={"accept": "application/json"})
    missing = await client.get("/t/no-such-shop/", headers={"accept": "application/json"})

    assert existing.status_code == missing.status_code == 404
    assert existing.json()["detail"] == missing.json()["detail"]


async def test_charlie_cannot_change_acme_members_by_path(client: AsyncClient, world: World) -> None:
    bob = next(m for m in await repository.memberships_of_tenant(world.acme.id) if m.email == "bob@example.com")
    await sign_in(client, "charlie@example.com")
    token = {"x-csrftoken": client.cookies["csrftoken"]}

    add = await client.post("/t/acme/settings/members", data={"email": "eve@x.io", "role": "admin"}, headers=token)
    promote = await client.post(f"/t/acme/settings/members/{bob.id}/role", data={"role": "owner"}, headers=token)
    remove = await client.post(f"/t/acme/settings/members/{bob.id}/remove", headers=token)

    assert (add.status_code, promote.status_code, remove.status_code) == (404, 404, 404)
    assert {m.email: m.role for m in await repository.memberships_of_tenant(world.acme.id)} == {
        "alice@example.com": "owner",
        "bob@example.com": "member",
    }


async def test_charlie_cannot_reach_an_acme_member_by_id_through_his_own_tenant(
    client: AsyncClient, world: World
) -> None:
    bob = next(m for m in await repository.memberships_of_tenant(world.acme.id) if m.email == "bob@example.com")
    await sign_in(client, "charlie@example.com")
    token = {"x-csrftoken": client.cookies["csrftoken"]}

    promote = await client.post(f"/t/noor/settings/members/{bob.id}/role", data={"role": "owner"}, headers=token)
    remove = await client.post(f"/t/noor/settings/members/{bob.id}/remove", headers=token)

    assert promote.status_code == 404
    assert remove.status_code == 404
    assert await repository.membership_by_id(bob.id, world.acme.id) is not None


async def test_charlie_gets_404_for_acme_by_host(settings: Settings, world: World) -> None:
    app = create_app(dataclasses.replace(settings, base_domain="wosool.test"))
    async with app_client(app) as client:
        await sign_in(client, "charlie@example.com")
        acme = await client.get("/", headers={"host": "acme.wosool.test"})
        acme_members = await client.get("/settings/members", headers={"host": "acme.wosool.test"})
        own = await client.get("/", headers={"host": "noor.wosool.test"})

    assert acme.status_code == 404
    assert acme_members.status_code == 404
    assert own.status_code == 200
    assert "Noor" in own.text


async def test_alice_reaches_acme_by_path_and_by_host(settings: Settings, world: World, app: Litestar) -> None:
    async with app_client(app) as client:
        await sign_in(client, "alice@example.com")
        by_path = await client.get("/t/acme/")
    hosted = create_app(dataclasses.replace(settings, base_domain="wosool.test"))
    async with app_client(hosted) as client:
        await sign_in(client, "alice@example.com")
        by_host = await client.get("/", headers={"host": "acme.wosool.test"})

    assert by_path.status_code == 200
    assert by_host.status_code == 200
    assert world.acme.role_name in by_path.text or "Acme" in by_path.text


async def test_bob_sees_members_but_cannot_manage_them(client: AsyncClient, world: World) -> None:
    await sign_in(client, "bob@example.com")
    token = {"x-csrftoken": client.cookies["csrftoken"]}
    alice = next(m for m in await repository.memberships_of_tenant(world.acme.id) if m.role == "owner")

    page = await client.get("/t/acme/settings/members")
    add = await client.post("/t/acme/settings/members", data={"email": "eve@x.io", "role": "member"}, headers=token)
    demote = await client.post(f"/t/acme/settings/members/{alice.id}/role", data={"role": "member"}, headers=token)

    assert page.status_code == 200
    assert "Add a member" not in page.text
    assert add.status_code == 403
    assert demote.status_code == 403
    assert len(await repository.memberships_of_tenant(world.acme.id)) == 2


async def test_signed_out_visitors_are_sent_to_sign_in(client: AsyncClient, world: World) -> None:
    page = await client.get("/t/acme/", follow_redirects=False)
    api = await client.get("/t/acme/", headers={"accept": "application/json"})

    assert page.status_code in (302, 303)
    assert page.headers["location"] == "/login?next=/t/acme"
    assert api.status_code == 401
