"""A web process remembers the sessions it read (app/lib/remembered_sessions.py), and forgets one as soon as any
process changes it: signing out anywhere signs out everywhere, within moments."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from redis.asyncio import Redis

from app.lib import remembered_sessions as remembered
from app.lib.remembered_sessions import remembered_sessions
from tests.conftest import World, eventually
from tests.people import sign_in

HOME = "/t/acme/"


async def subscribed() -> bool:
    return remembered_sessions.listening


async def signed_in(client: httpx.AsyncClient) -> bool:
    return (await client.get(HOME)).status_code == 200


async def signed_out(client: httpx.AsyncClient) -> bool:
    answer = await client.get(HOME)
    return answer.status_code in (302, 303) and answer.headers["location"].startswith("/login")


async def bob_signed_in(client: httpx.AsyncClient) -> None:
    await eventually(subscribed)
    await sign_in(client, "bob@example.com")
    assert await signed_in(client)  # and now remembered


async def session_key(redis: Redis) -> bytes:
    keys = [key async for key in redis.scan_iter(match="wosool*sessions*")]
    assert len(keys) == 1
    return keys[0]


async def test_it_signs_a_session_out_everywhere_within_moments(
    client: httpx.AsyncClient, world: World, live_server: str
) -> None:
    await bob_signed_in(client)

    async with httpx.AsyncClient(base_url=live_server) as other_process:
        await other_process.get("/login")  # its own CSRF cookie
        other_process.cookies.set("wosool_session", client.cookies["wosool_session"])
        out = await other_process.post("/logout", headers={"x-csrftoken": other_process.cookies["csrftoken"]})
        assert out.status_code in (302, 303)

    async def out_here() -> bool:
        return await signed_out(client)

    await eventually(out_here)  # within 5 s; remembered sessions live a minute: only the notice explains it


async def test_it_signs_a_session_out_here_at_once(client: httpx.AsyncClient, world: World) -> None:
    await bob_signed_in(client)
    cookie = client.cookies["wosool_session"]

    out = await client.post("/logout", headers={"x-csrftoken": client.cookies["csrftoken"]})
    assert out.status_code in (302, 303)

    client.cookies.set("wosool_session", cookie)  # the old cookie, replayed
    assert await signed_out(client)


async def test_it_remembers_a_session_until_told_or_until_it_is_old(
    client: httpx.AsyncClient, world: World, redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(remembered, "MAX_AGE_SECONDS", 1.5)
    await bob_signed_in(client)

    await redis.delete(await session_key(redis))  # behind Wosool's back: no notice

    assert await signed_in(client)  # remembered: Redis was not asked

    async def out_here() -> bool:
        return await signed_out(client)

    await eventually(out_here, within=5.0)


async def test_it_never_keeps_a_session_past_its_expiry_in_redis(
    client: httpx.AsyncClient, world: World, redis: Redis
) -> None:
    await eventually(subscribed)
    await sign_in(client, "bob@example.com")
    await redis.pexpire(await session_key(redis), 1500)

    assert await signed_in(client)  # read now, remembered for what is left of its 1.5 s
    await asyncio.sleep(1.8)

    assert await signed_out(client)


async def test_it_reads_redis_while_it_cannot_hear_the_notices(
    client: httpx.AsyncClient, world: World, redis: Redis
) -> None:
    await bob_signed_in(client)

    ours = [c["id"] for c in await redis.client_list() if c["name"] == remembered.subscriber_name()]
    assert len(ours) == 1
    await redis.client_kill_filter(_id=ours[0])

    async def deaf() -> bool:
        return not remembered_sessions.listening

    await eventually(deaf)
    await redis.delete(await session_key(redis))  # nobody is told either way

    assert await signed_out(client)
    await eventually(subscribed)  # and it subscribes again
