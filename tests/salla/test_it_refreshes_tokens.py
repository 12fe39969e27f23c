"""Salla's refresh tokens are single use: a store's tokens are refreshed once however many workers notice, a 401
refreshes them on the spot, Salla's invalid_grant leaves the store waiting for the merchant, and no token is ever
stored or logged in clear."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog
from redis.asyncio import Redis

from app.lib.crypto import SecretBox
from app.salla import accounts, tokens
from app.salla.accounts import TokenGrant, grant_from_payload
from app.salla.client import SallaApiError, SallaClient
from app.salla.sandbox import Sandbox
from app.salla.store_repository import StoreRecord, ensure_store, store_by_id, update_store
from app.salla.tables import SallaStore
from app.salla.tokens import NeedsReauthorization, access_token_of, refresh_tokens, save_grant
from app.settings import PROJECT_ROOT, Settings
from tasks import salla_sync
from tests.conftest import wosool_env
from tests.salla.support import MERCHANT


async def connected_store(sandbox: Sandbox, settings: Settings, merchant: int = MERCHANT, **issue: Any) -> StoreRecord:
    """The store's row with fresh sandbox tokens saved, as ``app.store.authorize`` leaves it."""
    store = await ensure_store(merchant)
    await update_store(store.id, plan="pro")
    return await save_grant(store.id, grant_from_payload(sandbox.issue_tokens(merchant, **issue)), settings)


async def stored_row(store_id: Any) -> dict[str, Any]:
    """Every column of the store's row as PostgreSQL holds it."""
    rows = await SallaStore.raw("SELECT * FROM salla_stores WHERE id = {}", store_id)
    assert len(rows) == 1
    return dict(rows[0])


async def test_it_refreshes_once_when_two_workers_notice_at_once(
    sandbox: Sandbox, salla_settings: Settings, redis: Redis
) -> None:
    store = await connected_store(sandbox, salla_settings)
    old = await access_token_of(store, salla_settings)

    results = await asyncio.gather(
        *(refresh_tokens(store.id, salla_settings, redis, seen_access_token=old) for _ in range(3))
    )

    stats = sandbox.stats(MERCHANT)
    assert stats.refreshes == 1
    assert stats.invalid_grants == 0
    new = {await access_token_of(result, salla_settings) for result in results}
    assert len(new) == 1
    assert new != {old}
    assert new == {sandbox.store(MERCHANT).last_grant["access_token"]}  # type: ignore[index]
    assert {result.status for result in results} == {"connected"}
    async with SallaClient(results[0], salla_settings, redis) as client:
        page = await client.get("/products")
    assert page.total == 20


REFRESH_IN_A_PROCESS = """
import asyncio, hashlib, os, sys, uuid
from redis.asyncio import Redis
from app.registry import database as registry
from app.salla.store_repository import store_by_id
from app.salla.tokens import access_token_of, refresh_tokens
from app.settings import Settings

async def main() -> None:
    settings = Settings.from_env()
    registry.bind(settings.database_url)
    await registry.open_pool(max_size=2)
    redis = Redis.from_url(settings.redis_url)
    store_id = uuid.UUID(sys.argv[1])
    seen = await access_token_of(await store_by_id(store_id), settings)
    await redis.set(f"test:ready:{sys.argv[2]}", 1)
    while not await redis.exists("test:go"):
        await asyncio.sleep(0.005)
    store = await refresh_tokens(store_id, settings, redis, seen_access_token=seen)
    print(hashlib.sha256((await access_token_of(store, settings)).encode()).hexdigest())
    await redis.aclose()
    await registry.close_pool()

asyncio.run(main())
"""


async def test_it_refreshes_once_when_two_processes_notice_at_once(
    sandbox: Sandbox, salla_settings: Settings, redis: Redis, tmp_path: Path
) -> None:
    store = await connected_store(sandbox, salla_settings)
    script = tmp_path / "refresh.py"
    script.write_text(REFRESH_IN_A_PROCESS)
    env = wosool_env(
        DATABASE_URL=salla_settings.database_url,
        REDIS_URL=salla_settings.redis_url,
        SALLA_CLIENT_ID=salla_settings.salla.client_id,
        SALLA_CLIENT_SECRET=salla_settings.salla.client_secret,
        SALLA_ACCOUNTS_URL=salla_settings.salla.accounts_url,
        SALLA_API_URL=salla_settings.salla.api_url,
        PYTHONPATH=str(PROJECT_ROOT),
    )
    workers = [
        await asyncio.create_subprocess_exec(
            sys.executable, str(script), str(store.id), str(n), env=env, stdout=asyncio.subprocess.PIPE
        )
        for n in (1, 2)
    ]
    for _ in range(600):  # both have read the old token before either refreshes
        if await redis.exists("test:ready:1", "test:ready:2") == 2 or any(w.returncode is not None for w in workers):
            break
        await asyncio.sleep(0.05)
    await redis.set("test:go", 1)
    outputs = [await worker.communicate() for worker in workers]

    assert [worker.returncode for worker in workers] == [0, 0]
    stats = sandbox.stats(MERCHANT)
    assert stats.refreshes == 1
    assert stats.invalid_grants == 0
    newest = sandbox.store(MERCHANT).last_grant["access_token"]  # type: ignore[index]
    last_lines = {stdout.decode().split()[-1] for stdout, _ in outputs}  # the hash, after any log lines
    assert last_lines == {hashlib.sha256(newest.encode()).hexdigest()}


async def test_it_refreshes_after_a_401_and_tries_once_more(
    sandbox: Sandbox, salla_settings: Settings, redis: Redis
) -> None:
    store = await connected_store(sandbox, salla_settings)
    sandbox.expire_tokens(MERCHANT)

    async with SallaClient(store, salla_settings, redis) as client:
        page = await client.get("/customers", {"per_page": 5})

    assert len(page.data) == 5
    assert sandbox.stats(MERCHANT).refreshes == 1
    after = await store_by_id(store.id)
    assert after is not None
    assert after.access_token_encrypted != store.access_token_encrypted
    assert after.token_refreshed_at is not None
    assert store.token_refreshed_at is not None
    assert after.token_refreshed_at > store.token_refreshed_at


async def test_it_gives_up_on_a_second_401(sandbox: Sandbox, salla_settings: Settings, redis: Redis) -> None:
    store = await connected_store(sandbox, salla_settings)
    sandbox.expire_tokens(MERCHANT)
    sandbox.tokens.access_token_seconds = 0  # the refreshed token is expired as well

    async with SallaClient(store, salla_settings, redis) as client:
        with pytest.raises(SallaApiError) as raised:
            await client.get("/customers")

    assert raised.value.status == 401
    assert sandbox.stats(MERCHANT).refreshes == 1


async def test_it_needs_the_merchant_when_salla_revoked_the_tokens(
    sandbox: Sandbox, salla_settings: Settings, redis: Redis
) -> None:
    store = await connected_store(sandbox, salla_settings)
    sandbox.revoke_tokens(MERCHANT)

    async with SallaClient(store, salla_settings, redis) as client:
        with pytest.raises(NeedsReauthorization):
            await client.get("/orders")

    after = await store_by_id(store.id)
    assert after is not None
    assert after.status == "needs_reauthorization"
    assert "invalid_grant" in after.last_error
    assert (after.access_token_encrypted, after.refresh_token_encrypted, after.token_expires_at) == ("", "", None)
    with pytest.raises(NeedsReauthorization):
        await access_token_of(after, salla_settings)


async def test_it_needs_the_merchant_when_its_refresh_token_was_used_elsewhere(
    sandbox: Sandbox, salla_settings: Settings, redis: Redis
) -> None:
    store = await connected_store(sandbox, salla_settings)
    refresh_token = SecretBox(salla_settings.encryption_keys).decrypt(store.refresh_token_encrypted)
    await accounts.refresh_grant(salla_settings, refresh_token)  # a stale copy of the tokens got used

    with pytest.raises(NeedsReauthorization):
        await refresh_tokens(store.id, salla_settings, redis)

    stats = sandbox.stats(MERCHANT)
    assert (stats.refreshes, stats.invalid_grants) == (1, 1)
    after = await store_by_id(store.id)
    assert after is not None
    assert after.status == "needs_reauthorization"
    assert not after.has_tokens


async def test_it_keeps_tokens_encrypted_and_out_of_logs_and_errors(
    sandbox: Sandbox,
    salla_settings: Settings,
    redis: Redis,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    seen_tokens: list[str] = []
    shown: list[str] = []
    with structlog.testing.capture_logs() as structured:
        first = sandbox.issue_tokens(MERCHANT)
        seen_tokens += [first["access_token"], first["refresh_token"]]
        grant = grant_from_payload(first)
        shown += [repr(grant), str(grant)]
        store = await ensure_store(MERCHANT)
        store = await save_grant(store.id, grant, salla_settings)
        rows = [await stored_row(store.id)]

        sandbox.expire_tokens(MERCHANT)
        async with SallaClient(store, salla_settings, redis) as client:
            await client.get("/customers")
            shown.append(repr(client))
        refreshed = sandbox.store(MERCHANT).last_grant
        assert refreshed is not None
        seen_tokens += [refreshed["access_token"], refreshed["refresh_token"]]
        rows.append(await stored_row(store.id))

        sandbox.revoke_tokens(MERCHANT)
        with pytest.raises(NeedsReauthorization) as revoked:
            await refresh_tokens(store.id, salla_settings, redis)
        shown += [str(revoked.value), repr(revoked.value)]
        with pytest.raises(accounts.InvalidGrant) as refused:
            await accounts.refresh_grant(salla_settings, refreshed["refresh_token"])
        shown += [str(refused.value), repr(refused.value)]

    captured = capsys.readouterr()
    everything = "\n".join(
        [*shown, caplog.text, captured.out, captured.err, repr(structured), *(repr(row) for row in rows)]
    )
    assert all(token not in everything for token in seen_tokens)
    assert rows[0]["access_token_encrypted"]
    assert rows[1]["refresh_token_encrypted"] != rows[0]["refresh_token_encrypted"]
    assert any(entry["event"] == "salla tokens refreshed" for entry in structured)  # the logs were captured


async def test_it_refreshes_tokens_a_day_before_they_expire(
    sandbox: Sandbox, salla_settings: Settings, redis: Redis
) -> None:
    sandbox.add_store(merchant_id=5678, username="other", name="متجر آخر", owner_email="o@o.sa", plan="plus")
    expiring = await connected_store(sandbox, salla_settings, expires_in=3 * 3600)
    fresh = await connected_store(sandbox, salla_settings, merchant=5678)
    context: Any = {"wosool": {"settings": salla_settings, "redis": redis}}

    first = await salla_sync.refresh_salla_tokens(context)
    second = await salla_sync.refresh_salla_tokens(context)

    assert (first, second) == (1, 0)
    assert (sandbox.stats(MERCHANT).refreshes, sandbox.stats(5678).refreshes) == (1, 0)
    renewed, untouched = await store_by_id(expiring.id), await store_by_id(fresh.id)
    assert renewed is not None
    assert untouched is not None
    assert renewed.token_expires_at is not None
    assert renewed.token_expires_at > datetime.now(UTC) + timedelta(days=13)
    assert untouched.access_token_encrypted == fresh.access_token_encrypted
    job = next(cron for cron in salla_sync.CRON_JOBS if cron.function is salla_sync.refresh_salla_tokens)
    assert (job.timeout, job.retries) == (600, 2)


async def test_it_forgets_the_tokens_of_an_uninstalled_store(sandbox: Sandbox, salla_settings: Settings) -> None:
    store = await connected_store(sandbox, salla_settings)

    await tokens.forget_tokens(store.id)

    after = await store_by_id(store.id)
    assert after is not None
    assert (after.access_token_encrypted, after.refresh_token_encrypted, after.token_expires_at) == ("", "", None)


def test_it_hides_tokens_in_a_grant_s_repr() -> None:
    grant = TokenGrant("access-secret-1234", "refresh-secret-5678", datetime.now(UTC), "offline_access")

    assert "secret" not in repr(grant)
    assert "offline_access" in repr(grant)
