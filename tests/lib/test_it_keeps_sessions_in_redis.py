from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from litestar import Litestar, Request, get
from litestar.params import FromPath
from redis.asyncio import Redis

from app.lib.sessions import RENEWED_ON
from tests.conftest import app_client


def _register_session_routes(app: Litestar) -> None:
    @get("/remember/{value:str}", include_in_schema=False)
    async def remember(request: Request[Any, Any, Any], value: FromPath[str]) -> str:
        request.session["value"] = value
        return "ok"

    @get("/recall", include_in_schema=False)
    async def recall(request: Request[Any, Any, Any]) -> str:
        return str(request.session.get("value", "nothing"))

    @get("/forget", include_in_schema=False)
    async def forget(request: Request[Any, Any, Any]) -> str:
        request.clear_session()
        return "ok"

    for handler in (remember, recall, forget):
        app.register(handler)


async def _session_keys(redis: Redis) -> list[bytes]:
    return [key async for key in redis.scan_iter(match="wosool*sessions*")]


async def test_a_session_lives_in_redis_and_survives_a_new_app(app: Litestar, settings, redis: Redis) -> None:  # type: ignore[no-untyped-def]
    from app.factory import create_app

    _register_session_routes(app)
    async with app_client(app) as client:
        await client.get("/remember/alice")
        cookie = client.cookies["wosool_session"]

    assert len(await _session_keys(redis)) == 1

    second_process = create_app(settings)
    _register_session_routes(second_process)
    async with app_client(second_process) as client:
        client.cookies.set("wosool_session", cookie)
        recalled = await client.get("/recall")

    assert recalled.text == "alice"


async def test_anonymous_requests_store_nothing(client, redis: Redis) -> None:  # type: ignore[no-untyped-def]
    for path in ("/", "/api/health", "/api/ready", "/no-such-page"):
        response = await client.get(path)
        assert "wosool_session" not in response.headers.get("set-cookie", "")

    assert await _session_keys(redis) == []


async def test_clearing_a_session_deletes_it_and_the_cookie(app: Litestar, redis: Redis) -> None:
    _register_session_routes(app)
    async with app_client(app) as client:
        await client.get("/remember/bob")
        cleared = await client.get("/forget")
        recalled = await client.get("/recall")

    assert "wosool_session=null" in cleared.headers["set-cookie"]
    assert await _session_keys(redis) == []
    assert recalled.text == "nothing"


async def test_the_session_cookie_is_http_only_and_same_site(app: Litestar) -> None:
    _register_session_routes(app)
    async with app_client(app) as client:
        response = await client.get("/remember/carol")

    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie


async def _stored_session(redis: Redis) -> tuple[bytes, dict[str, Any]]:
    [key] = await _session_keys(redis)
    raw = await redis.get(key)
    assert raw is not None
    return key, json.loads(raw)


async def test_an_unchanged_session_is_read_not_written(app: Litestar, redis: Redis) -> None:
    _register_session_routes(app)
    async with app_client(app) as client:
        remembered = await client.get("/remember/dave")
        key, _ = await _stored_session(redis)
        await redis.expire(key, 100)
        recalled = await client.get("/recall")
        ttl_after_reading = await redis.ttl(key)
        changed = await client.get("/remember/erin")

    assert "wosool_session=" in remembered.headers["set-cookie"]
    assert recalled.text == "dave"
    assert "set-cookie" not in recalled.headers  # nothing changed: no write, no cookie
    assert 0 < ttl_after_reading <= 100  # not rewritten (a write would have set 14 days again)
    assert "wosool_session=" in changed.headers["set-cookie"]
    assert (await _stored_session(redis))[1]["value"] == "erin"


async def test_an_unchanged_session_is_sent_again_the_next_day(app: Litestar, redis: Redis) -> None:
    _register_session_routes(app)
    async with app_client(app) as client:
        await client.get("/remember/frank")
        key, stored = await _stored_session(redis)
        await redis.set(key, json.dumps({**stored, RENEWED_ON: "2026-01-01"}), ex=100)
        recalled = await client.get("/recall")

    assert recalled.text == "frank"
    assert "wosool_session=" in recalled.headers["set-cookie"]  # the cookie's 14 days start again
    assert await redis.ttl(key) > 13 * 24 * 3600  # and the stored copy's
    assert (await _stored_session(redis))[1][RENEWED_ON] == datetime.now(UTC).date().isoformat()
