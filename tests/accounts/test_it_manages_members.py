from __future__ import annotations

from httpx import AsyncClient

from app.accounts import repository
from tests.conftest import World
from tests.people import sign_in


async def _members(world: World) -> dict[str, str]:
    return {m.email: m.role for m in await repository.memberships_of_tenant(world.acme.id)}


async def test_an_owner_adds_a_member_who_can_then_sign_in(client: AsyncClient, world: World) -> None:
    await sign_in(client, "alice@example.com")

    added = await client.post(
        "/t/acme/settings/members",
        data={"email": "Dana@Example.com", "role": "admin"},
        headers={"x-csrftoken": client.cookies["csrftoken"]},
    )

    assert added.status_code == 201
    assert (await _members(world))["dana@example.com"] == "admin"
    password = added.text.split('<code dir="ltr">')[1].split("</code>")[0]
    client.cookies.clear()
    signed_in = await sign_in(client, "dana@example.com", password)
    assert signed_in.status_code in (302, 303)
    assert (await client.get("/t/acme/settings/members")).status_code == 200


async def test_adding_someone_twice_is_a_409(client: AsyncClient, world: World) -> None:
    await sign_in(client, "alice@example.com")

    again = await client.post(
        "/t/acme/settings/members",
        data={"email": "bob@example.com", "role": "member"},
        headers={"x-csrftoken": client.cookies["csrftoken"]},
    )

    assert again.status_code == 409
    assert "already a member" in again.text


async def test_an_owner_changes_a_role(client: AsyncClient, world: World) -> None:
    bob = next(m for m in await repository.memberships_of_tenant(world.acme.id) if m.email == "bob@example.com")
    await sign_in(client, "alice@example.com")

    changed = await client.post(
        f"/t/acme/settings/members/{bob.id}/role",
        data={"role": "admin"},
        headers={"x-csrftoken": client.cookies["csrftoken"]},
    )

    assert changed.status_code == 200
    assert (await _members(world))["bob@example.com"] == "admin"


async def test_the_last_owner_can_be_neither_removed_nor_demoted(client: AsyncClient, world: World) -> None:
    alice = next(m for m in await repository.memberships_of_tenant(world.acme.id) if m.role == "owner")
    await sign_in(client, "alice@example.com")
    token = {"x-csrftoken": client.cookies["csrftoken"]}

    demote = await client.post(f"/t/acme/settings/members/{alice.id}/role", data={"role": "admin"}, headers=token)
    remove = await client.post(f"/t/acme/settings/members/{alice.id}/remove", headers=token)

    assert demote.status_code == 403
    assert "last owner" in demote.text
    assert remove.status_code == 403
    assert (await _members(world))["alice@example.com"] == "owner"


async def test_an_unknown_role_is_a_400(client: AsyncClient, world: World) -> None:
    bob = next(m for m in await repository.memberships_of_tenant(world.acme.id) if m.email == "bob@example.com")
    await sign_in(client, "alice@example.com")

    response = await client.post(
        f"/t/acme/settings/members/{bob.id}/role",
        data={"role": "superuser"},
        headers={"x-csrftoken": client.cookies["csrftoken"]},
    )

    assert response.status_code == 400
    assert (await _members(world))["bob@example.com"] == "member"


async def test_an_owner_removes_a_member(client: AsyncClient, world: World) -> None:
    bob = next(m for m in await repository.memberships_of_tenant(world.acme.id) if m.email == "bob@example.com")
    await sign_in(client, "alice@example.com")

    removed = await client.post(
        f"/t/acme/settings/members/{bob.id}/remove", headers={"x-csrftoken": client.cookies["csrftoken"]}
    )

    assert removed.status_code == 200
    assert "bob@example.com" not in await _members(world)
