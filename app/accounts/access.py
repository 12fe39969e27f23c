"""Who is signed in, and may they enter this tenant? Every tenant route asks here, and only here.

Someone who is not a member of a tenant learns nothing about it: it answers 404, exactly like a tenant that
does not exist.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.params import FromPath

from app.accounts import memberships
from app.accounts.api_keys import ApiKeyRecord, InvalidApiKey, authenticate_api_key
from app.accounts.repository import MemberRecord, UserRecord
from app.lib import ratelimit
from app.tenancy import services as tenancy
from app.tenancy.repository import TenantRecord

__all__ = [
    "API_KEY_LIMIT",
    "SESSION_EMAIL",
    "SESSION_USER",
    "ApiAccess",
    "NotSignedIn",
    "TenantAccess",
    "TenantUnavailable",
    "any_status_access",
    "api_key_access",
    "sign_in_session",
    "signed_in_user_id",
    "tenant_access",
]

SESSION_USER = "user_id"
SESSION_EMAIL = "email"


class NotSignedIn(Exception):
    pass


class TenantUnavailable(Exception):
    """The member may not use the tenant right now: it is suspended, awaiting deletion, or not ready."""

    def __init__(self, tenant: TenantRecord) -> None:
        super().__init__(f"'{tenant.slug}' is {tenant.status}")
        self.tenant = tenant


@dataclass(frozen=True)
class TenantAccess:
    tenant: TenantRecord
    member: MemberRecord

    @property
    def can_manage_members(self) -> bool:
        return self.member.role in ("owner", "admin")


def signed_in_user_id(request: Request[Any, Any, Any]) -> uuid.UUID | None:
    raw = request.session.get(SESSION_USER) if request.session else None
    try:
        return uuid.UUID(raw) if raw else None
    except ValueError:
        return None


def sign_in_session(request: Request[Any, Any, Any], user: UserRecord) -> None:
    """Start a fresh session for ``user`` (a new session id: no fixation)."""
    request.set_session({SESSION_USER: str(user.id), SESSION_EMAIL: user.email, "_rotate": True})


async def any_status_access(request: Request[Any, Any, Any], slug: FromPath[str]) -> TenantAccess:
    """A member's access to the tenant in ``slug``, whatever the tenant's status (but not deleted)."""
    user_id = signed_in_user_id(request)
    if user_id is None:
        raise NotSignedIn
    tenant = await tenancy.find_tenant(request.app.state.redis, slug)
    if tenant is None or tenant.status == "deleted":
        raise NotFoundException("No such page.")
    member = await memberships.membership(user_id, tenant.id)
    if member is None:
        raise NotFoundException("No such page.")
    return TenantAccess(tenant=tenant, member=member)


async def tenant_access(request: Request[Any, Any, Any], slug: FromPath[str]) -> TenantAccess:
    """A member's access to an active tenant; any other status raises `TenantUnavailable`."""
    access = await any_status_access(request, slug)
    if access.tenant.status != "active":
        raise TenantUnavailable(access.tenant)
    return access


API_KEY_LIMIT = ratelimit.Limit("api-key", attempts=600, per_seconds=60)


@dataclass(frozen=True)
class ApiAccess:
    tenant: TenantRecord
    key: ApiKeyRecord


async def api_key_access(request: Request[Any, Any, Any]) -> ApiAccess:
    """The tenant of the API key in ``Authorization: Bearer <key>``; the key alone decides the tenant."""
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key:
        raise NotAuthorizedException("Send an API key as 'Authorization: Bearer <key>'.")
    try:
        record = await authenticate_api_key(key.strip())
    except InvalidApiKey:
        raise NotAuthorizedException("This API key is not valid (unknown or revoked).") from None
    await ratelimit.hit(request.app.state.redis, API_KEY_LIMIT, str(record.id))
    tenant = await tenancy.tenant_by_id(record.tenant_id)
    if tenant is None or tenant.status == "deleted":
        raise NotAuthorizedException("This API key is not valid (unknown or revoked).")
    if tenant.status != "active":
        raise TenantUnavailable(tenant)
    return ApiAccess(tenant=tenant, key=record)
