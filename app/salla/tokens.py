"""A store's Salla tokens: stored encrypted, refreshed before they expire, one refresh at a time per store.

Salla's refresh tokens are single use. Two processes refreshing the same store at once would send one refresh
token twice, and Salla answers the second with ``invalid_grant`` and revokes both tokens: the merchant would
have to reinstall. So every refresh takes the store's lock in Redis, re-reads the store inside it, refreshes only
when nobody did meanwhile, and saves both new tokens before the lock is released.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import LockError, LockNotOwnedError

from app.lib.crypto import SecretBox
from app.salla import store_repository
from app.salla.accounts import AccountsError, InvalidGrant, SallaUnavailable, TokenGrant, refresh_grant
from app.salla.store_repository import StoreRecord
from app.salla.tables import SallaStore
from app.settings import Settings

__all__ = [
    "LOCK_TIMEOUT_SECONDS",
    "NeedsReauthorization",
    "access_token_of",
    "forget_tokens",
    "refresh_expiring",
    "refresh_tokens",
    "save_grant",
]

log = structlog.get_logger("wosool.salla.tokens")

LOCK_TIMEOUT_SECONDS = 60.0
"""The lock expires by itself after this (a crashed holder); well above a refresh's 20 s HTTP timeout."""
LOCK_WAIT_SECONDS = 45.0
"""How long a second refresher waits for the first before giving up (it then finds the new tokens)."""
REFRESH_CONCURRENCY = 4
"""Stores the periodic job refreshes side by side."""

REAUTHORIZE_MESSAGE = (
    "Salla rejected the refresh token (invalid_grant), so both tokens are revoked: "
    "the merchant must open the app from the Salla dashboard again (or reinstall it) to reconnect the store."
)


class NeedsReauthorization(Exception):
    """The store has no usable tokens: only the merchant can fix it, by authorising the app again."""

    def __init__(self, message: str, *, store_id: uuid.UUID | None = None, merchant_id: int | None = None) -> None:
        super().__init__(message)
        self.store_id = store_id
        self.merchant_id = merchant_id


def _box(settings: Settings) -> SecretBox:
    return SecretBox(settings.encryption_keys)


async def save_grant(store_id: uuid.UUID, grant: TokenGrant, settings: Settings) -> StoreRecord:
    """Store a newly authorised pair (``app.store.authorize`` or the OAuth callback): the store is connected."""
    now = datetime.now(UTC)
    box = _box(settings)
    store = await store_repository.update_store(
        store_id,
        access_token_encrypted=box.encrypt(grant.access_token),
        refresh_token_encrypted=box.encrypt(grant.refresh_token),
        token_expires_at=grant.expires_at,
        scopes=grant.scope,
        status="connected",
        authorized_at=now,
        token_refreshed_at=now,
        last_error="",
    )
    if store is None:
        raise LookupError(f"no Salla store {store_id}")
    return store


async def access_token_of(store: StoreRecord, settings: Settings) -> str:
    """The store's access token in clear, for one request's Authorization header."""
    if store.status != "connected" or not store.has_tokens:
        raise NeedsReauthorization(
            f"Salla store {store.merchant_id} has no usable tokens (status {store.status})"
            + (f": {store.last_error}" if store.last_error else ""),
            store_id=store.id,
            merchant_id=store.merchant_id,
        )
    return _box(settings).decrypt(store.access_token_encrypted)


async def forget_tokens(store_id: uuid.UUID) -> None:
    """The app was uninstalled: Salla revoked the tokens, and we keep no copy."""
    await store_repository.update_store(
        store_id, access_token_encrypted="", refresh_token_encrypted="", token_expires_at=None
    )


async def refresh_tokens(
    store_id: uuid.UUID, settings: Settings, redis: Redis, *, seen_access_token: str | None = None
) -> StoreRecord:
    """Make sure the store's tokens are newer than ``seen_access_token``, refreshing them if nobody else has.

    ``seen_access_token`` is the token the caller found wanting (a 401) or about to expire; without it, the token
    stored when this call starts. Raises NeedsReauthorization when Salla answers ``invalid_grant`` (the tokens
    are then cleared and the store marked ``needs_reauthorization``), AccountsError (SallaUnavailable: try later)
    when Salla cannot be asked or refuses our client credentials."""
    if seen_access_token is None:
        seen_access_token = await _current_access_token(store_id, settings)
    lock = redis.lock(
        f"wosool:salla:token-refresh:{store_id}",
        timeout=LOCK_TIMEOUT_SECONDS,
        blocking_timeout=LOCK_WAIT_SECONDS,
        sleep=0.05,
    )
    if not await lock.acquire():
        raise SallaUnavailable(f"another process has been refreshing the tokens of store {store_id} for too long")
    try:
        return await _refresh_locked(store_id, settings, seen_access_token)
    finally:
        await _release(lock, store_id)


async def _current_access_token(store_id: uuid.UUID, settings: Settings) -> str:
    store = await _existing_store(store_id)
    return await access_token_of(store, settings)


async def _existing_store(store_id: uuid.UUID) -> StoreRecord:
    store = await store_repository.store_by_id(store_id)
    if store is None:
        raise LookupError(f"no Salla store {store_id}")
    return store


async def _release(lock: Any, store_id: uuid.UUID) -> None:
    try:
        await lock.release()
    except LockNotOwnedError:
        # Our refresh outlived the lock's timeout: another process may have refreshed too (and been told
        # invalid_grant). The row tells the truth either way; say so for whoever investigates.
        log.warning("salla token refresh outlived its lock", store_id=str(store_id))
    except LockError:
        log.warning("salla token refresh lock was already released", store_id=str(store_id))


async def _refresh_locked(store_id: uuid.UUID, settings: Settings, seen_access_token: str) -> StoreRecord:
    store = await _existing_store(store_id)
    current = await access_token_of(store, settings)
    if current != seen_access_token:
        return store  # refreshed (or re-authorised) by someone else while we waited
    box = _box(settings)
    refresh_token = box.decrypt(store.refresh_token_encrypted)
    try:
        grant = await refresh_grant(settings, refresh_token)
    except InvalidGrant:
        await _mark_revoked(store)
        raise NeedsReauthorization(REAUTHORIZE_MESSAGE, store_id=store.id, merchant_id=store.merchant_id) from None
    except AccountsError as error:  # Salla unreachable, or refusing our client credentials
        await store_repository.update_store(store.id, last_error=f"token refresh failed, will retry: {error}")
        raise
    saved = await _update_if_tokens_unchanged(
        store,
        access_token_encrypted=box.encrypt(grant.access_token),
        refresh_token_encrypted=box.encrypt(grant.refresh_token),
        token_expires_at=grant.expires_at,
        scopes=grant.scope or store.scopes,
        token_refreshed_at=datetime.now(UTC),
        last_error="",
    )
    if saved:
        log.info(
            "salla tokens refreshed",
            store_id=str(store.id),
            merchant_id=store.merchant_id,
            expires_at=grant.expires_at.isoformat(),
        )
    else:
        log.warning("salla tokens changed during a refresh; kept the stored ones", store_id=str(store.id))
    return await _existing_store(store_id)


async def _mark_revoked(store: StoreRecord) -> None:
    changed = await _update_if_tokens_unchanged(
        store,
        status="needs_reauthorization",
        access_token_encrypted="",
        refresh_token_encrypted="",
        token_expires_at=None,
        last_error=REAUTHORIZE_MESSAGE,
    )
    if changed:
        log.warning("salla store needs reauthorization", store_id=str(store.id), merchant_id=store.merchant_id)


async def _update_if_tokens_unchanged(store: StoreRecord, **values: Any) -> bool:
    """Write ``values`` only if the store still holds the refresh token we used and is still connected.

    An ``app.store.authorize`` or ``app.uninstalled`` applied during the refresh wins: it is newer than us."""
    values["updated_at"] = datetime.now(UTC)
    columns = {getattr(SallaStore, name): value for name, value in values.items()}
    rows = await (
        SallaStore.update(columns)
        .where(SallaStore.id == store.id)
        .where(SallaStore.status == "connected")
        .where(SallaStore.refresh_token_encrypted == store.refresh_token_encrypted)
        .returning(SallaStore.id)
    )
    return bool(rows)


async def refresh_expiring(settings: Settings, redis: Redis, *, within: timedelta = timedelta(days=1)) -> int:
    """Refresh every connected store whose access token expires within ``within``; returns how many were.

    One store's failure does not stop the others: it is logged (and recorded on the store) and retried next
    run, while an invalid_grant leaves that store ``needs_reauthorization``."""
    stores = await store_repository.stores_with_tokens_expiring_before(datetime.now(UTC) + within)
    gate = asyncio.Semaphore(REFRESH_CONCURRENCY)

    async def refresh(store: StoreRecord) -> bool:
        async with gate:
            return await _refresh_one(store, settings, redis)

    results = await asyncio.gather(*(refresh(store) for store in stores))
    return sum(results)


async def _refresh_one(store: StoreRecord, settings: Settings, redis: Redis) -> bool:
    try:
        seen = await access_token_of(store, settings)
        after = await refresh_tokens(store.id, settings, redis, seen_access_token=seen)
    except NeedsReauthorization:
        return False
    except (AccountsError, LookupError) as error:
        log.warning("salla token refresh failed", store_id=str(store.id), error=str(error))
        return False
    except Exception as error:
        # No traceback: its frames hold the tokens in clear.
        log.error("salla token refresh failed", store_id=str(store.id), error=f"{type(error).__name__}: {error}")
        return False
    return after.access_token_encrypted != store.access_token_encrypted
