"""The account page changes a person's password: the current one is asked for, a weak one is refused with the
reason, and nothing changes until everything is right. (People whose account a Salla install made, and who have no
password yet, set one without a current password: tests/salla/test_it_signs_store_owners_in_with_salla.py.)"""

from __future__ import annotations

from httpx import AsyncClient

from app.accounts import repository
from tests.conftest import World
from tests.people import PASSWORD, sign_in

NEW_PASSWORD = "a brand new passphrase"


async def _change(client: AsyncClient, **form: str) -> int:
    answer = await client.post("/account/password", data=form, headers={"x-csrftoken": client.cookies["csrftoken"]})
    return answer.status_code


async def test_it_changes_the_password_when_the_current_one_is_right(client: AsyncClient, world: World) -> None:
    await sign_in(client, "alice@example.com")

    assert await _change(client, current_password=PASSWORD, new_password=NEW_PASSWORD) == 200

    await client.post("/logout", headers={"x-csrftoken": client.cookies["csrftoken"]})
    assert (await sign_in(client, "alice@example.com")).status_code == 401
    assert (await sign_in(client, "alice@example.com", NEW_PASSWORD)).status_code in (302, 303)


async def test_it_refuses_a_wrong_current_password_and_changes_nothing(client: AsyncClient, world: World) -> None:
    await sign_in(client, "alice@example.com")
    before = await repository.user_by_email("alice@example.com")

    answer = await client.post(
        "/account/password",
        data={"current_password": "not it at all", "new_password": NEW_PASSWORD},
        headers={"x-csrftoken": client.cookies["csrftoken"]},
    )

    assert answer.status_code == 422
    assert "not your current password" in answer.text
    after = await repository.user_by_email("alice@example.com")
    assert before is not None
    assert after is not None
    assert after.password_hash == before.password_hash


async def test_it_refuses_a_weak_password_with_the_reason(client: AsyncClient, world: World) -> None:
    await sign_in(client, "alice@example.com")

    answer = await client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": "short"},
        headers={"x-csrftoken": client.cookies["csrftoken"]},
    )

    assert answer.status_code == 422
    assert "at least 10 characters" in answer.text
    assert (await sign_in(client, "alice@example.com")).status_code in (302, 303)


async def test_it_needs_a_signed_in_person(client: AsyncClient, world: World) -> None:
    await client.get("/login")

    answer = await client.post(
        "/account/password",
        data={"new_password": NEW_PASSWORD},
        headers={"x-csrftoken": client.cookies["csrftoken"]},
        follow_redirects=False,
    )

    assert answer.status_code in (302, 303)
    assert answer.headers["location"].startswith("/login")
