from __future__ import annotations

import dataclasses

import asyncpg
import pytest
from cryptography.fernet import Fernet
from redis.asyncio import Redis
from saq import Queue

from app.lib.crypto import UndecryptableSecret
from app.settings import Settings
from app.tenancy import repository
from app.tenancy.services import reencrypt_secrets, tenant_database
from tests.people import create_organization


async def test_after_reencrypting_the_old_key_can_be_retired(settings: Settings, redis: Redis, queue: Queue) -> None:
    old_key, new_key = settings.encryption_keys[0], Fernet.generate_key().decode()
    tenant = await create_organization(settings, redis, queue, slug="acme", owner="alice@example.com")
    rotated = dataclasses.replace(settings, encryption_keys=(new_key, old_key))
    only_new = dataclasses.replace(settings, encryption_keys=(new_key,))
    with pytest.raises(UndecryptableSecret):
        await tenant_database(tenant, only_new)

    assert await reencrypt_secrets(rotated) == 1

    reloaded = await repository.tenant_by_slug("acme")
    assert reloaded is not None
    assert reloaded.role_password_encrypted != tenant.role_password_encrypted
    connection = await asyncpg.connect((await tenant_database(reloaded, only_new)).dsn)
    try:
        assert await connection.fetchval("SELECT current_user") == tenant.role_name
    finally:
        await connection.close()


async def test_the_database_password_is_never_stored_in_clear(settings: Settings, redis: Redis, queue: Queue) -> None:
    tenant = await create_organization(settings, redis, queue, slug="acme", owner="alice@example.com")
    password = (await tenant_database(tenant, settings)).dsn.split(":")[2].split("@")[0]

    registry = await asyncpg.connect(settings.database_url)
    try:
        dump = str(await registry.fetch("SELECT * FROM tenants"))
    finally:
        await registry.close()

    assert len(password) >= 32
    assert password not in dump
