from __future__ import annotations

import asyncio

import asyncpg
import pytest
from httpx import AsyncClient

from app.settings import Settings
from tests.services import TestServers

GOOD = {"name": "Acme Perfumes", "slug": "acme", "email": "alice@example.com", "password": "correct horse battery"}


async def _count(settings: Settings, table: str) -> int:
    connection = await asyncpg.connect(settings.database_url)
    try:
        return int(await connection.fetchval(f"SELECT count(*) FROM {table}"))
    finally:
        await connection.close()


async def test_it_answers_202_with_the_slug_status_and_a_status_url(client: AsyncClient) -> None:
    response = await client.post("/api/auth/register-organization", json=GOOD)

    assert response.status_code == 202, response.text
    body = response.json()
    assert body["slug"] == "acme"
    assert body["status"] == "provisioning"
    status = await client.get(body["status_url"])
    assert status.json() == {"slug": "acme", "status": "provisioning"}


async def test_a_retry_with_the_same_idempotency_key_gets_the_first_answer(
    client: AsyncClient, settings: Settings
) -> None:
    headers = {"Idempotency-Key": "signup-7f3a"}
    first = await client.post("/api/auth/register-organization", json=GOOD, headers=headers)
    again = await client.post("/api/auth/register-organization", json=GOOD, headers=headers)
    without_key = await client.post("/api/auth/register-organization", json=GOOD)

    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert without_key.status_code == 409
    assert await _count(settings, "tenants") == 1


async def test_the_same_idempotency_key_with_another_request_is_refused(client: AsyncClient) -> None:
    headers = {"Idempotency-Key": "signup-7f3a"}
    await client.post("/api/auth/register-organization", json=GOOD, headers=headers)

    other = await client.post("/api/auth/register-organization", json={**GOOD, "slug": "other-shop"}, headers=headers)

    assert other.status_code == 409
    assert "Idempotency-Key" in other.text


async def test_a_taken_slug_is_a_409_with_the_reason(client: AsyncClient) -> None:
    await client.post("/api/auth/register-organization", json=GOOD)

    again = await client.post("/api/auth/register-organization", json={**GOOD, "email": "bob@example.com"})

    assert again.status_code == 409
    assert again.json()["field"] == "slug"
    assert "already taken" in again.json()["detail"]


async def test_a_registered_email_with_another_password_is_a_409(client: AsyncClient) -> None:
    await client.post("/api/auth/register-organization", json=GOOD)

    again = await client.post(
        "/api/auth/register-organization", json={**GOOD, "slug": "second-shop", "password": "another password 1"}
    )

    assert again.status_code == 409
    assert again.json()["field"] == "email"


async def test_the_same_person_can_register_a_second_organization(client: AsyncClient, settings: Settings) -> None:
    await client.post("/api/auth/register-organization", json=GOOD)

    second = await client.post("/api/auth/register-organization", json={**GOOD, "slug": "second-shop"})

    assert second.status_code == 202
    assert await _count(settings, "users") == 1
    assert await _count(settings, "memberships") == 2


async def test_two_simultaneous_sign_ups_for_one_slug_give_one_202_one_409_and_one_database(
    client: AsyncClient, settings: Settings, servers: TestServers
) -> None:
    first, second = await asyncio.gather(
        client.post("/api/auth/register-organization", json=GOOD),
        client.post("/api/auth/register-organization", json={**GOOD, "email": "bob@example.com"}),
    )

    assert sorted([first.status_code, second.status_code]) == [202, 409]
    assert await _count(settings, "tenants") == 1
    assert await _count(settings, "users") == 1


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({k: v for k, v in GOOD.items() if k != "email"}, "email"),
        ({k: v for k, v in GOOD.items() if k != "slug"}, "slug"),
        ({**GOOD, "email": "not-an-email"}, "email"),
        ({**GOOD, "slug": "admin"}, "reserved"),
        ({**GOOD, "slug": "api"}, "reserved"),
        ({**GOOD, "slug": "Acme"}, "lowercase"),
        ({**GOOD, "slug": "ab"}, "3 to 40"),
        ({**GOOD, "slug": "a" * 41}, "40"),
        ({**GOOD, "slug": "acme--shop"}, "single hyphens"),
        ({**GOOD, "password": "short"}, "at least 10"),
        ({**GOOD, "password": "aaaaaaaaaaaa"}, "repetitive"),
        ({**GOOD, "name": "   "}, "name"),
        ({**GOOD, "name": 42}, "name"),
        ({**GOOD, "password": ["a", "b"]}, "password"),
        ({**GOOD, "extra": "field"}, "extra"),
        ({**GOOD, "locale": "fr"}, "locale"),
    ],
)
async def test_bad_input_gets_a_4xx_with_the_reason_and_creates_nothing(
    client: AsyncClient, settings: Settings, body: dict[str, object], reason: str
) -> None:
    response = await client.post("/api/auth/register-organization", json=body)

    assert response.status_code == 400, response.text
    assert reason in response.text
    assert await _count(settings, "tenants") == 0
    assert await _count(settings, "users") == 0


async def test_malformed_json_is_a_400(client: AsyncClient, settings: Settings) -> None:
    response = await client.post(
        "/api/auth/register-organization", content=b'{"name": "x",', headers={"content-type": "application/json"}
    )

    assert response.status_code == 400
    assert await _count(settings, "tenants") == 0


async def test_a_huge_body_is_refused_before_it_is_read(client: AsyncClient, settings: Settings) -> None:
    response = await client.post("/api/auth/register-organization", json={**GOOD, "name": "x" * 100_000})

    assert response.status_code == 413
    assert await _count(settings, "tenants") == 0


async def test_sign_ups_are_rate_limited_per_address(client: AsyncClient) -> None:
    statuses = []
    for number in range(22):
        response = await client.post(
            "/api/auth/register-organization", json={**GOOD, "slug": f"shop-{number}", "email": f"o{number}@x.io"}
        )
        statuses.append(response.status_code)

    assert statuses[:20] == [202] * 20
    assert statuses[20:] == [429, 429]
