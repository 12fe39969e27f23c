"""Data access for users, memberships and idempotent responses (registry tables, through Piccolo)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from app.accounts.tables import IdempotentResponse, Membership, User
from app.registry import database as registry

__all__ = [
    "EmailTaken",
    "MemberRecord",
    "UserRecord",
    "count_owners",
    "delete_membership",
    "insert_membership",
    "insert_user",
    "membership",
    "membership_by_id",
    "memberships_of_tenant",
    "memberships_of_user",
    "record_login",
    "save_response",
    "saved_response",
    "set_password_hash",
    "set_role",
    "set_user_locale",
    "set_user_profile",
    "user_by_email",
    "user_by_id",
]


class EmailTaken(Exception):
    pass


@dataclass(frozen=True)
class UserRecord:
    id: uuid.UUID
    email: str
    name: str
    password_hash: str
    locale: str
    is_superadmin: bool


@dataclass(frozen=True)
class MemberRecord:
    """A membership seen from either side: the user's and the tenant's."""

    id: uuid.UUID
    user_id: uuid.UUID
    tenant_id: uuid.UUID
    role: str
    email: str
    name: str
    tenant_slug: str
    tenant_name: str
    tenant_status: str


def _user(row: dict[str, Any]) -> UserRecord:
    return UserRecord(
        id=row["id"],
        email=row["email"],
        name=row["name"],
        password_hash=row["password_hash"],
        locale=row["locale"],
        is_superadmin=row["is_superadmin"],
    )


async def insert_user(*, email: str, name: str, password_hash: str, locale: str = "") -> UserRecord:
    try:
        rows = await User.insert(User(email=email, name=name, password_hash=password_hash, locale=locale)).returning(
            *User.all_columns()
        )
    except asyncpg.UniqueViolationError as error:
        raise EmailTaken(email) from error
    return _user(rows[0])


async def user_by_email(email: str) -> UserRecord | None:
    row = await User.select(*User.all_columns()).where(User.email == email).first()
    return None if row is None else _user(row)


async def user_by_id(user_id: uuid.UUID) -> UserRecord | None:
    row = await User.select(*User.all_columns()).where(User.id == user_id).first()
    return None if row is None else _user(row)


async def set_user_profile(user_id: uuid.UUID, *, name: str, locale: str) -> UserRecord | None:
    """A person's display name and language; None when there is no such user."""
    rows = (
        await User.update({User.name: name, User.locale: locale})
        .where(User.id == user_id)
        .returning(*User.all_columns())
    )
    return _user(rows[0]) if rows else None


async def set_user_locale(user_id: uuid.UUID, locale: str) -> None:
    await User.update({User.locale: locale}).where(User.id == user_id)


async def set_password_hash(user_id: uuid.UUID, password_hash: str) -> None:
    await User.update({User.password_hash: password_hash}).where(User.id == user_id)


async def record_login(user_id: uuid.UUID) -> None:
    await User.update({User.last_login_at: datetime.now(UTC)}).where(User.id == user_id)


async def insert_membership(*, user_id: uuid.UUID, tenant_id: uuid.UUID, role: str) -> uuid.UUID:
    """Raises asyncpg.UniqueViolationError when the user already belongs to the tenant."""
    rows = await Membership.insert(Membership(user=user_id, tenant=tenant_id, role=role)).returning(Membership.id)
    return rows[0]["id"]  # type: ignore[no-any-return]


_MEMBER_SELECT = """
    SELECT m.id, m."user" AS user_id, m.tenant AS tenant_id, m.role, u.email, u.name,
           t.slug AS tenant_slug, t.name AS tenant_name, t.status AS tenant_status
    FROM memberships m JOIN users u ON u.id = m."user" JOIN tenants t ON t.id = m.tenant
"""


def _member(row: dict[str, Any]) -> MemberRecord:
    return MemberRecord(**row)


async def membership(user_id: uuid.UUID, tenant_id: uuid.UUID) -> MemberRecord | None:
    """Straight through the registry's pool when it is open: every dashboard request needs this (through
    `app.accounts.memberships`, which remembers it), and Piccolo's query building costs more than the query (one
    unique-index lookup)."""
    pool = registry.engine().pool
    if pool is None:  # a one-off command: Piccolo connects
        rows = await Membership.raw(_MEMBER_SELECT + ' WHERE m."user" = {} AND m.tenant = {}', user_id, tenant_id)
        return _member(rows[0]) if rows else None
    async with pool.acquire() as connection:
        row = await connection.fetchrow(_MEMBER_SELECT + ' WHERE m."user" = $1 AND m.tenant = $2', user_id, tenant_id)
    return None if row is None else _member(dict(row))


async def membership_by_id(membership_id: uuid.UUID, tenant_id: uuid.UUID) -> MemberRecord | None:
    """A membership *of this tenant*: another tenant's membership id finds nothing."""
    rows = await Membership.raw(_MEMBER_SELECT + " WHERE m.id = {} AND m.tenant = {}", membership_id, tenant_id)
    return _member(rows[0]) if rows else None


async def memberships_of_tenant(tenant_id: uuid.UUID) -> list[MemberRecord]:
    rows = await Membership.raw(_MEMBER_SELECT + " WHERE m.tenant = {} ORDER BY m.created_at", tenant_id)
    return [_member(row) for row in rows]


async def memberships_of_user(user_id: uuid.UUID) -> list[MemberRecord]:
    rows = await Membership.raw(
        _MEMBER_SELECT + " WHERE m.\"user\" = {} AND t.status <> 'deleted' ORDER BY t.name", user_id
    )
    return [_member(row) for row in rows]


async def count_owners(tenant_id: uuid.UUID) -> int:
    owners: int = await Membership.count().where((Membership.tenant == tenant_id) & (Membership.role == "owner"))
    return owners


async def set_role(membership_id: uuid.UUID, role: str) -> None:
    await Membership.update({Membership.role: role}).where(Membership.id == membership_id)


async def delete_membership(membership_id: uuid.UUID) -> None:
    await Membership.delete().where(Membership.id == membership_id)


async def saved_response(scope: str, key: str) -> tuple[str, int, dict[str, Any]] | None:
    """(request hash, status code, body) of the first request made with this key, if any."""
    row = (
        await IdempotentResponse.select()
        .where((IdempotentResponse.scope == scope) & (IdempotentResponse.key == key))
        .first()
    )
    if row is None:
        return None
    body = json.loads(row["body"]) if isinstance(row["body"], str) else row["body"]
    return row["request_hash"], row["status_code"], body


async def save_response(scope: str, key: str, request_hash: str, status_code: int, body: dict[str, Any]) -> None:
    """Raises asyncpg.UniqueViolationError when a concurrent request with the same key saved first."""
    await IdempotentResponse.insert(
        IdempotentResponse(
            scope=scope, key=key, request_hash=request_hash, status_code=status_code, body=json.dumps(body)
        )
    )
