from __future__ import annotations

from httpx import AsyncClient
from redis.asyncio import Redis

from tests.conftest import World
from tests.people import sign_in


async def test_a_right_password_signs_in_and_lands_on_the_account_page(client: AsyncClient, world: World) -> None:
    response = await sign_in(client, "Alice@Example.com")

    assert response.status_code in (302, 303)
    assert response.headers["location"] == "/account"
    account = await client.get("/account")
    assert "acme" in account.text
    assert "noor" not in account.text


async def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(
    client: AsyncClient, world: World
) -> None:
    wrong_password = await sign_in(client, "alice@example.com", "not her password")
    unknown_person = await sign_in(client, "nobody@example.com", "not her password")

    assert wrong_password.status_code == unknown_person.status_code == 401
    assert "do not match" in wrong_password.text
    assert "wosool_session" not in client.cookies


async def test_signing_in_starts_a_new_session_id(client: AsyncClient, world: World, redis: Redis) -> None:
    await sign_in(client, "alice@example.com")
    first = client.cookies["wosool_session"]
    await sign_in(client, "bob@example.com")
    second = client.cookies["wosool_session"]

    assert first != second
    assert [key async for key in redis.scan_iter(match=f"*{first}*")] == []


async def test_logging_out_ends_the_session(client: AsyncClient, world: World) -> None:
    await sign_in(client, "alice@example.com")

    await client.post("/logout", headers={"x-csrftoken": client.cookies["csrftoken"]})

    page = await client.get("/t/acme/", follow_redirects=False)
    assert page.status_code in (302, 303)


async def test_guessing_one_persons_password_is_rate_limited(client: AsyncClient, world: World) -> None:
    statuses = [(await sign_in(client, "alice@example.com", f"guess {n}")).status_code for n in range(10)]

    assert statuses[:8] == [401] * 8
    assert statuses[8:] == [429, 429]
    blocked = await sign_in(client, "alice@example.com")  # even the right password waits
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0


async def test_one_address_guessing_many_accounts_is_rate_limited(client: AsyncClient, world: World) -> None:
    statuses = [(await sign_in(client, f"person{n}@example.com", "guess")).status_code for n in range(32)]

    assert statuses[:30] == [401] * 30
    assert statuses[30:] == [429, 429]


async def test_a_next_link_off_the_site_is_ignored(client: AsyncClient, world: World) -> None:
    await client.get("/login")
    response = await client.post(
        "/login",
        data={"email": "alice@example.com", "password": "correct horse battery", "next": "https://evil.example/"},
        headers={"x-csrftoken": client.cookies["csrftoken"]},
    )

    assert response.headers["location"] == "/account"
