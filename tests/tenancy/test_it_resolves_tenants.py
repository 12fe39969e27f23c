from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from httpx import AsyncClient
from redis.asyncio import Redis

from app.registry.changes import access_notices
from app.settings import Settings
from app.tenancy import cache, repository, services
from tests.conftest import World, eventually
from tests.people import sign_in


async def test_an_unknown_tenant_is_404_by_status_url(client: AsyncClient) -> None:
    response = await client.get("/api/tenants/no-such-shop/status")

    assert response.status_code == 404


async def test_a_suspended_tenant_shows_a_clear_page_and_403_json(
    client: AsyncClient, world: World, redis: Redis
) -> None:
    await sign_in(client, "alice@example.com")
    assert (await client.get("/t/acme/settings/members")).status_code == 200

    await services.suspend_tenant(redis, "acme", actor="test")
    page = await client.get("/t/acme/settings/members")
    api = await client.get("/t/acme/settings/members", headers={"accept": "application/json"})
    home = await client.get("/t/acme/")

    assert page.status_code == 403
    assert "suspended" in page.text
    assert api.status_code == 403
    assert api.json()["status"] == "suspended"
    assert home.status_code == 403


async def test_resuming_opens_the_tenant_again_at_once(client: AsyncClient, world: World, redis: Redis) -> None:
    await sign_in(client, "alice@example.com")
    await services.suspend_tenant(redis, "acme", actor="test")
    assert (await client.get("/t/acme/settings/members")).status_code == 403

    await services.resume_tenant(redis, "acme", actor="test")

    assert (await client.get("/t/acme/settings/members")).status_code == 200


async def test_a_tenant_still_provisioning_shows_the_preparing_page(
    client: AsyncClient, world: World, redis: Redis
) -> None:
    await repository.update_tenant(world.acme.id, status="provisioning")
    await services.tenant_changed(redis, "acme")
    await sign_in(client, "alice@example.com")

    home = await client.get("/t/acme/")
    members = await client.get("/t/acme/settings/members", follow_redirects=False)
    poll = await client.get("/t/acme/preparing/status", headers={"hx-request": "true"})

    assert "Preparing your CRM" in home.text
    assert 'hx-get="/t/acme/preparing/status"' in home.text
    assert members.status_code in (302, 303)
    assert members.headers["location"] == "/t/acme/"
    assert "hx-redirect" not in poll.headers

    await repository.update_tenant(world.acme.id, status="active")
    await services.tenant_changed(redis, "acme")
    ready = await client.get("/t/acme/preparing/status", headers={"hx-request": "true"})
    assert ready.headers["hx-redirect"] == "/t/acme/"
    assert ready.status_code == 286  # htmx stops polling, so no poll is cut off by the page leaving


async def test_lookups_are_cached_and_a_change_clears_the_cache(world: World, redis: Redis, settings: Settings) -> None:
    await services.find_tenant(redis, "acme")
    assert await redis.exists("wosool:tenant:slug:acme")

    await services.suspend_tenant(redis, "acme", actor="test")

    assert not await redis.exists("wosool:tenant:slug:acme")
    assert (await services.find_tenant(redis, "acme")).status == "suspended"  # type: ignore[union-attr]


async def test_an_unknown_slug_is_remembered_until_a_tenant_takes_it(
    client: AsyncClient, redis: Redis, settings: Settings
) -> None:
    assert await services.find_tenant(redis, "fresh-shop") is None
    assert await redis.get("wosool:tenant:slug:fresh-shop") == b"unknown"

    response = await client.post(
        "/api/auth/register-organization",
        json={"name": "Fresh", "slug": "fresh-shop", "email": "f@x.io", "password": "correct horse battery"},
    )

    assert response.status_code == 202
    assert (await client.get("/api/tenants/fresh-shop/status")).status_code == 200


async def test_a_lookup_that_read_before_a_change_does_not_cache_the_old_row(world: World, redis: Redis) -> None:
    """The race behind a 300 s stale "provisioning" status: read, change + invalidate, then store."""
    seen = await cache.generation(redis, "acme")
    old_row = await repository.tenant_by_slug("acme")
    assert old_row is not None
    await services.suspend_tenant(redis, "acme", actor="test")  # commits and invalidates in between

    await cache.remember_tenant(redis, old_row, seen)

    assert await redis.get("wosool:tenant:slug:acme") is None
    assert (await services.find_tenant(redis, "acme")).status == "suspended"  # type: ignore[union-attr]


async def _status(redis: Redis, slug: str = "acme") -> str | None:
    tenant = await services.find_tenant(redis, slug)
    return None if tenant is None else tenant.status


async def _changed_in_another_process(redis: Redis, slug: str, **changes: object) -> None:
    """What another web process does when it changes a tenant: the registry row, then Redis (not our memo)."""
    tenant = await repository.tenant_by_slug(slug)
    assert tenant is not None
    await repository.update_tenant(tenant.id, **changes)
    await redis.incr(f"wosool:tenant:generation:{slug}")
    await redis.delete(f"wosool:tenant:slug:{slug}")


async def test_a_suspension_made_elsewhere_reaches_this_process_within_its_memo_time(
    world: World, redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache, "MEMO_SECONDS", 0.3)
    assert await _status(redis) == "active"  # from the registry
    assert await _status(redis) == "active"  # from Redis, and kept here

    await _changed_in_another_process(redis, "acme", status="suspended")
    meanwhile = await _status(redis)
    await asyncio.sleep(0.35)
    later = await _status(redis)

    assert meanwhile == "active"
    assert later == "suspended"


async def test_a_tenant_that_is_not_active_is_never_kept_in_memory(
    world: World, redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache, "MEMO_SECONDS", 60.0)
    await repository.update_tenant(world.acme.id, status="provisioning")
    await services.tenant_changed(redis, "acme")
    await _status(redis)
    assert await _status(redis) == "provisioning"

    await _changed_in_another_process(redis, "acme", status="active")

    assert await _status(redis) == "active"


async def test_a_change_made_by_this_process_applies_here_at_once(
    world: World, redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache, "MEMO_SECONDS", 60.0)
    await _status(redis)
    assert await _status(redis) == "active"

    await services.suspend_tenant(redis, "acme", actor="test")

    assert await _status(redis) == "suspended"


@pytest.fixture
async def hearing(world: World, settings: Settings) -> AsyncIterator[None]:
    """This process hears the registry's notices, as a web process does (after the world is made)."""

    async def heard() -> bool:
        return access_notices.hearing

    access_notices.start(settings.database_url)
    await eventually(heard)
    yield
    await access_notices.stop()


async def test_a_process_that_hears_the_registry_remembers_a_tenant_past_the_short_memo(
    world: World, redis: Redis, settings: Settings, hearing: None
) -> None:
    assert await _status(redis) == "active"  # from the registry
    assert await _status(redis) == "active"  # from Redis, and kept here

    connection = await asyncpg.connect(settings.database_url)
    try:  # a change nobody hears (triggers do not fire for a replica session), Redis cleared as its maker would
        await connection.execute("SET session_replication_role = replica")
        await connection.execute("UPDATE tenants SET status = 'suspended' WHERE slug = 'acme'")
    finally:
        await connection.close()
    await redis.incr("wosool:tenant:generation:acme")
    await redis.delete("wosool:tenant:slug:acme")
    await asyncio.sleep(cache.MEMO_SECONDS + 0.3)

    assert await _status(redis) == "active"  # still remembered: nothing said it changed


async def test_a_suspension_made_elsewhere_is_heard_within_moments(world: World, redis: Redis, hearing: None) -> None:
    await _status(redis)
    assert await _status(redis) == "active"  # kept here, for a minute

    await _changed_in_another_process(redis, "acme", status="suspended")

    async def suspended() -> bool:
        return await _status(redis) == "suspended"

    await eventually(suspended)  # within 5 s: only the notice explains it


async def test_a_notice_that_outruns_the_redis_clear_is_not_remembered_for_long(
    world: World, redis: Redis, hearing: None
) -> None:
    await _status(redis)
    assert await _status(redis) == "active"

    await repository.update_tenant(world.acme.id, status="suspended")  # heard; Redis still holds the old row
    await asyncio.sleep(0.5)
    assert await _status(redis) == "active"  # the old row, from Redis
    await redis.incr("wosool:tenant:generation:acme")  # the maker clears Redis, late
    await redis.delete("wosool:tenant:slug:acme")
    await asyncio.sleep(cache.MEMO_SECONDS + 0.3)

    assert await _status(redis) == "suspended"  # the old row was kept for the short memo only
