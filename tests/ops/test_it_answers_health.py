from __future__ import annotations

import dataclasses

from httpx import AsyncClient

from app.factory import create_app
from app.settings import Settings
from tests.conftest import app_client


async def test_it_answers_ok(client: AsyncClient) -> None:
    response = await client.get("/api/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_it_answers_even_when_every_dependency_is_down(settings: Settings) -> None:
    broken = dataclasses.replace(
        settings, database_url="postgresql://nobody@127.0.0.1:1/none", redis_url="redis://127.0.0.1:1/0"
    )
    async with app_client(create_app(broken)) as client:
        response = await client.get("/api/health")

    assert response.status_code == 200


async def test_it_sets_no_session_cookie(client: AsyncClient) -> None:
    response = await client.get("/api/health")

    assert "set-cookie" not in response.headers
