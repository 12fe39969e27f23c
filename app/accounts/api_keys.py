"""Per-tenant API keys for integrators: created by admins (or the CLI), shown once, stored hashed, revocable.

A key looks like ``wsl_<prefix>_<secret>``. The prefix (8 characters) is stored in clear so a key can be found and
shown in lists ("wsl_3fa9c2d1_…"); the secret part is 32 random bytes, so a plain SHA-256 of the whole key is a
safe and fast way to store it (a slow password hash is for guessable secrets).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from app.accounts.tables import ApiKey
from app.admin import audit

__all__ = [
    "ApiKeyRecord",
    "InvalidApiKey",
    "authenticate_api_key",
    "create_api_key",
    "list_api_keys",
    "revoke_api_key",
]

KEY_PREFIX = "wsl"
_LAST_USED_PRECISION = timedelta(minutes=1)
"""`last_used_at` is written at most once a minute per key: a busy integration must not write on every call."""


class InvalidApiKey(Exception):
    """Unknown, malformed or revoked key (callers answer 401 without saying which)."""


@dataclass(frozen=True)
class ApiKeyRecord:
    id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    prefix: str
    created_by: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def display(self) -> str:
        return f"{KEY_PREFIX}_{self.prefix}_…"


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _record(row: dict[str, Any]) -> ApiKeyRecord:
    return ApiKeyRecord(
        id=row["id"],
        tenant_id=row["tenant"],
        name=row["name"],
        prefix=row["prefix"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
        revoked_at=row["revoked_at"],
    )


async def create_api_key(tenant_id: uuid.UUID, tenant_slug: str, *, name: str, actor: str) -> tuple[ApiKeyRecord, str]:
    """A new key for the tenant. Returns the record and the key itself, which is never shown again."""
    name = " ".join(name.split())
    if not 1 <= len(name) <= 100:
        raise ValueError("an API key needs a name of 1 to 100 characters")
    prefix = secrets.token_hex(4)
    key = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    rows = await ApiKey.insert(
        ApiKey(tenant=tenant_id, name=name, prefix=prefix, key_hash=_digest(key), created_by=actor)
    ).returning(*ApiKey.all_columns())
    await audit.record(actor, "api_key.created", tenant_slug=tenant_slug, name=name, prefix=prefix)
    return _record(rows[0]), key


async def list_api_keys(tenant_id: uuid.UUID) -> list[ApiKeyRecord]:
    rows = await ApiKey.select(*ApiKey.all_columns()).where(ApiKey.tenant == tenant_id).order_by(ApiKey.created_at)
    return [_record(row) for row in rows]


async def revoke_api_key(tenant_id: uuid.UUID, tenant_slug: str, key_id: uuid.UUID, *, actor: str) -> ApiKeyRecord:
    """Revoke a key *of this tenant*; another tenant's key id is simply not found (LookupError)."""
    rows = await (
        ApiKey.update({ApiKey.revoked_at: datetime.now(UTC)})
        .where((ApiKey.id == key_id) & (ApiKey.tenant == tenant_id) & ApiKey.revoked_at.is_null())
        .returning(*ApiKey.all_columns())
    )
    if not rows:
        raise LookupError(f"no active API key {key_id}")
    revoked = _record(rows[0])
    await audit.record(actor, "api_key.revoked", tenant_slug=tenant_slug, name=revoked.name, prefix=revoked.prefix)
    return revoked


async def authenticate_api_key(key: str) -> ApiKeyRecord:
    """The active key record for ``key``, or `InvalidApiKey`."""
    parts = key.split("_")
    if len(parts) < 3 or parts[0] != KEY_PREFIX or len(key) > 200:
        raise InvalidApiKey
    row = await ApiKey.select(*ApiKey.all_columns(), ApiKey.key_hash).where(ApiKey.prefix == parts[1]).first()
    if row is None or row["revoked_at"] is not None or not hmac.compare_digest(row["key_hash"], _digest(key)):
        raise InvalidApiKey
    record = _record(row)
    now = datetime.now(UTC)
    if record.last_used_at is None or now - record.last_used_at > _LAST_USED_PRECISION:
        await ApiKey.update({ApiKey.last_used_at: now}).where(ApiKey.id == record.id)
    return record
