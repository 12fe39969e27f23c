"""The rules of people: registering an organization, signing in, and managing a tenant's members."""

from __future__ import annotations

import contextlib
import hashlib
import json
import secrets
import unicodedata
import uuid
from dataclasses import asdict, dataclass
from typing import Any

import asyncpg
from email_validator import EmailNotValidError, validate_email
from redis.asyncio import Redis
from saq import Queue

from app.accounts import memberships, repository
from app.accounts.passwords import (
    WeakPassword,
    check_password_rules,
    hash_password_off_loop,
    verify_password_off_loop,
)
from app.accounts.repository import EmailTaken, MemberRecord, UserRecord
from app.admin import audit
from app.lib import ratelimit
from app.registry import database as registry
from app.settings import Settings
from app.tenancy import services as tenancy
from app.tenancy.repository import TenantRecord

__all__ = [
    "LANGUAGES",
    "ROLES",
    "Conflict",
    "InvalidCredentials",
    "InvalidInput",
    "MemberRecord",
    "NotAllowed",
    "Registration",
    "UserRecord",
    "add_member",
    "change_role",
    "check_language",
    "ensure_owner",
    "language_at_sign_in",
    "members_of",
    "register_organization",
    "remember_language",
    "remove_member",
    "set_password",
    "sign_in",
    "update_profile",
    "user_profile",
]

ROLES = ("owner", "admin", "member")
LANGUAGES = ("ar", "en")
"""The languages a person can choose; ``users.locale`` holds one of them, or "" until they have one."""
MANAGERS = ("owner", "admin")
LOGIN_PER_IP = ratelimit.Limit("login-ip", attempts=30, per_seconds=300)
LOGIN_PER_EMAIL = ratelimit.Limit("login-email", attempts=8, per_seconds=300)
SIGNUP_PER_IP = ratelimit.Limit("signup-ip", attempts=20, per_seconds=3600)
IDEMPOTENCY_SCOPE = "register-organization"


class InvalidInput(ValueError):
    """Input that breaks a rule: ``errors`` maps each field to its reason."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {reason}" for field, reason in errors.items()))
        self.errors = errors


class Conflict(Exception):
    """The request collides with what exists (a taken slug, a registered e-mail address)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class InvalidCredentials(Exception):
    pass


class NotAllowed(Exception):
    """The signed-in member's role does not allow this."""


@dataclass(frozen=True)
class Registration:
    name: str
    slug: str
    email: str
    password: str
    locale: str = ""

    def fingerprint(self) -> str:
        """Identifies the request for Idempotency-Key replays (the password only as part of a hash)."""
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class Registered:
    status_code: int
    body: dict[str, Any]
    tenant: TenantRecord | None
    user_id: uuid.UUID | None


def normalize_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise InvalidInput({"email": str(error)}) from None


def check_registration(registration: Registration) -> Registration:
    """The registration with normalised values, or `InvalidInput` naming every bad field."""
    errors: dict[str, str] = {}
    name = " ".join(registration.name.split())
    if not 1 <= len(name) <= 200:
        errors["name"] = "must be 1 to 200 characters long"
    slug = registration.slug.strip()
    try:
        tenancy.check_slug(slug)
    except tenancy.InvalidSlug as error:
        errors["slug"] = str(error)
    email = registration.email
    try:
        email = normalize_email(registration.email)
    except InvalidInput as error:
        errors.update(error.errors)
    try:
        check_password_rules(registration.password, email=email)
    except WeakPassword as error:
        errors["password"] = str(error)
    if registration.locale not in ("", *LANGUAGES):
        errors["locale"] = "must be 'ar' or 'en'"
    if errors:
        raise InvalidInput(errors)
    return Registration(name=name, slug=slug, email=email, password=registration.password, locale=registration.locale)


async def register_organization(
    registration: Registration,
    *,
    settings: Settings,
    queue: Queue,
    redis: Redis,
    idempotency_key: str = "",
    client_ip: str = "",
    existing_user: UserRecord | None = None,
) -> Registered:
    """Create a tenant owned by the person registering, and start provisioning it.

    With ``idempotency_key`` a retry of the same request returns the first answer; the same key with a
    different request is refused. ``existing_user`` is a signed-in person adding another organization.
    """
    if client_ip:
        await ratelimit.hit(redis, SIGNUP_PER_IP, client_ip)
    if idempotency_key:
        replay = await _replay(idempotency_key, registration)
        if replay is not None:
            return replay
    clean = check_registration(registration)
    try:
        tenant, user_id = await _create(clean, settings, existing_user)
    except Conflict:
        replay = await _replay(idempotency_key, registration) if idempotency_key else None
        if replay is not None:  # a concurrent request with the same key got there first
            return replay
        raise
    body = {
        "slug": tenant.slug,
        "status": tenant.status,
        "status_url": f"/api/tenants/{tenant.slug}/status",
        "url": f"/t/{tenant.slug}/",
    }
    if idempotency_key:
        # A same-key twin would have hit the slug conflict first, so a clash here is only a formality.
        with contextlib.suppress(asyncpg.UniqueViolationError):
            await repository.save_response(IDEMPOTENCY_SCOPE, idempotency_key, registration.fingerprint(), 202, body)
    await tenancy.tenant_changed(redis, tenant.slug)
    await tenancy.request_provisioning(queue, tenant.id)
    return Registered(status_code=202, body=body, tenant=tenant, user_id=user_id)


async def _replay(key: str, registration: Registration) -> Registered | None:
    saved = await repository.saved_response(IDEMPOTENCY_SCOPE, key)
    if saved is None:
        return None
    fingerprint, status_code, body = saved
    if fingerprint != registration.fingerprint():
        raise Conflict("Idempotency-Key", "was already used for a different request")
    return Registered(status_code=status_code, body=body, tenant=None, user_id=None)


async def _create(
    registration: Registration, settings: Settings, existing_user: UserRecord | None
) -> tuple[TenantRecord, uuid.UUID]:
    async with registry.engine().transaction():
        user = existing_user or await _new_or_matching_user(registration)
        try:
            tenant = await tenancy.new_tenant(name=registration.name, slug=registration.slug, settings=settings)
        except tenancy.SlugTaken:
            raise Conflict("slug", f"'{registration.slug}' is already taken") from None
        await repository.insert_membership(user_id=user.id, tenant_id=tenant.id, role="owner")
        await audit.record(f"user:{user.email}", "tenant.registered", tenant_slug=tenant.slug, name=tenant.name)
    return tenant, user.id


async def _new_or_matching_user(registration: Registration) -> UserRecord:
    existing = await repository.user_by_email(registration.email)
    if existing is not None:
        if await verify_password_off_loop(existing.password_hash, registration.password):
            return existing  # the same person adding an organization
        raise Conflict("email", "an account with this e-mail address already exists; sign in to add an organization")
    try:
        return await repository.insert_user(
            email=registration.email,
            name="",
            password_hash=await hash_password_off_loop(registration.password),
            locale=registration.locale,
        )
    except EmailTaken:
        raise Conflict("email", "an account with this e-mail address already exists") from None


async def sign_in(email: str, password: str, *, redis: Redis, client_ip: str) -> UserRecord:
    """The user, if the password is right; every attempt counts against the IP's and the address's limits."""
    address = email.strip().lower()[:254]
    await ratelimit.hit(redis, LOGIN_PER_IP, client_ip)
    await ratelimit.hit(redis, LOGIN_PER_EMAIL, address)
    user = await repository.user_by_email(address)
    if not await verify_password_off_loop(user.password_hash if user else "", password) or user is None:
        raise InvalidCredentials
    await repository.record_login(user.id)
    return user


def _require_manager(actor: MemberRecord) -> None:
    if actor.role not in MANAGERS:
        raise NotAllowed("only owners and admins manage members")


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise InvalidInput({"role": f"must be one of {', '.join(ROLES)}"})


async def add_member(tenant: TenantRecord, actor: MemberRecord, *, email: str, role: str) -> tuple[MemberRecord, str]:
    """Add a person by e-mail address. Returns the membership and, for a person new to Wosool, the one-time
    password created for them (shown once to whoever added them; empty otherwise)."""
    _require_manager(actor)
    _check_role(role)
    if role == "owner" and actor.role != "owner":
        raise NotAllowed("only owners make other owners")
    address = normalize_email(email)
    temporary_password = ""
    async with registry.engine().transaction():
        user = await repository.user_by_email(address)
        if user is None:
            temporary_password = secrets.token_urlsafe(12)
            user = await repository.insert_user(
                email=address, name="", password_hash=await hash_password_off_loop(temporary_password)
            )
        try:
            membership_id = await repository.insert_membership(user_id=user.id, tenant_id=tenant.id, role=role)
        except asyncpg.UniqueViolationError:
            raise Conflict("email", f"{address} is already a member") from None
        await audit.record(f"user:{actor.email}", "member.added", tenant_slug=tenant.slug, email=address, role=role)
    added = await repository.membership_by_id(membership_id, tenant.id)
    assert added is not None
    memberships.forget_user(added.user_id)
    return added, temporary_password


async def change_role(tenant: TenantRecord, actor: MemberRecord, membership_id: uuid.UUID, role: str) -> MemberRecord:
    _require_manager(actor)
    _check_role(role)
    async with registry.engine().transaction():
        target = await _member_of(tenant, membership_id)
        if actor.role != "owner" and "owner" in (target.role, role):
            raise NotAllowed("only owners change who is an owner")
        if target.role == "owner" and role != "owner" and await repository.count_owners(tenant.id) <= 1:
            raise NotAllowed("the last owner cannot stop being an owner; make someone else an owner first")
        await repository.set_role(membership_id, role)
        await audit.record(
            f"user:{actor.email}", "member.role_changed", tenant_slug=tenant.slug, email=target.email, role=role
        )
    memberships.forget_user(target.user_id)
    changed = await repository.membership_by_id(membership_id, tenant.id)
    assert changed is not None
    return changed


async def remove_member(tenant: TenantRecord, actor: MemberRecord, membership_id: uuid.UUID) -> None:
    _require_manager(actor)
    async with registry.engine().transaction():
        target = await _member_of(tenant, membership_id)
        if target.role == "owner" and actor.role != "owner":
            raise NotAllowed("only owners remove owners")
        if target.role == "owner" and await repository.count_owners(tenant.id) <= 1:
            raise NotAllowed("the last owner cannot be removed")
        await repository.delete_membership(membership_id)
        await audit.record(f"user:{actor.email}", "member.removed", tenant_slug=tenant.slug, email=target.email)
    memberships.forget_user(target.user_id)


async def members_of(tenant: TenantRecord) -> list[MemberRecord]:
    """The tenant's members, oldest first (every member may see the team)."""
    return await repository.memberships_of_tenant(tenant.id)


class MemberNotFound(LookupError):
    pass


async def _member_of(tenant: TenantRecord, membership_id: uuid.UUID) -> MemberRecord:
    """The membership if it belongs to this tenant; a membership of another tenant is simply not found."""
    member = await repository.membership_by_id(membership_id, tenant.id)
    if member is None:
        raise MemberNotFound(str(membership_id))
    return member


# -- a person's own profile and language ---------------------------------------------------------------------------

_MAX_NAME = 200
_JOINERS = frozenset("\u200c\u200d")
"""Zero-width (non-)joiners are part of how some names are written (Persian, Urdu); other format characters,
such as the bidirectional overrides, could disguise a name and are refused."""


async def user_profile(user_id: uuid.UUID) -> UserRecord | None:
    return await repository.user_by_id(user_id)


def check_language(language: str) -> str:
    if language not in LANGUAGES:
        raise InvalidInput({"language": "must be 'ar' or 'en'"})
    return language


def _clean_name(name: str) -> str:
    """The display name with its white space tidied; "" is allowed (the e-mail address is shown instead)."""
    clean = " ".join(name.split())
    if len(clean) > _MAX_NAME:
        raise InvalidInput({"name": f"must be at most {_MAX_NAME} characters long"})
    if any(unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn") and char not in _JOINERS for char in clean):
        raise InvalidInput({"name": "must not contain control characters"})
    return clean


async def update_profile(user_id: uuid.UUID, *, name: str, language: str) -> UserRecord:
    """Change the person's display name and language; `InvalidInput` names each bad field."""
    errors: dict[str, str] = {}
    clean = name
    try:
        clean = _clean_name(name)
    except InvalidInput as error:
        errors.update(error.errors)
    try:
        check_language(language)
    except InvalidInput as error:
        errors.update(error.errors)
    if errors:
        raise InvalidInput(errors)
    updated = await repository.set_user_profile(user_id, name=clean, locale=language)
    if updated is None:
        raise InvalidInput({"user": "no such user"})
    await audit.record(f"user:{updated.email}", "user.profile_changed", name=clean, language=language)
    memberships.forget_user(user_id)
    return updated


async def remember_language(user_id: uuid.UUID, language: str) -> None:
    """The language the person switched to, kept for their next sign-in on any browser."""
    await repository.set_user_locale(user_id, check_language(language))


async def language_at_sign_in(user: UserRecord, browser_language: str) -> str:
    """The language to show after sign-in: the person's saved choice, or, the first time (an account made by
    an admin, or through the API without one), the browser's language, which is then saved as theirs."""
    if user.locale in LANGUAGES:
        return user.locale
    language = browser_language if browser_language in LANGUAGES else "en"
    await repository.set_user_locale(user.id, language)
    return language


async def ensure_owner(tenant: TenantRecord, *, email: str, name: str, actor: str) -> UserRecord:
    """Make the person with ``email`` an owner of ``tenant``: their account is created (with no password: they
    sign in through the store, then may set one) when they have none. Safe to repeat."""
    clean_email = normalize_email(email)
    user = await repository.user_by_email(clean_email)
    if user is None:
        try:
            user = await repository.insert_user(email=clean_email, name=_tolerant_name(name), password_hash="")
        except EmailTaken:  # created by a concurrent call a moment ago
            user = await repository.user_by_email(clean_email)
            assert user is not None
    member = await repository.membership(user.id, tenant.id)
    if member is None:
        with contextlib.suppress(asyncpg.UniqueViolationError):
            await repository.insert_membership(user_id=user.id, tenant_id=tenant.id, role="owner")
            await audit.record(actor, "member.added", tenant_slug=tenant.slug, email=clean_email, role="owner")
    elif member.role != "owner":
        await repository.set_role(member.id, "owner")
    memberships.forget_user(user.id)
    return user


async def set_password(user_id: uuid.UUID, *, new_password: str, current_password: str = "") -> None:
    """Change a password; a person who has none yet (an account made by a store install) sets one without."""
    user = await repository.user_by_id(user_id)
    if user is None:
        raise InvalidCredentials()
    if user.password_hash and not await verify_password_off_loop(user.password_hash, current_password):
        raise InvalidInput({"current_password": "is not your current password"})
    try:
        check_password_rules(new_password, email=user.email)
    except WeakPassword as problem:
        raise InvalidInput({"new_password": str(problem)}) from None
    await repository.set_password_hash(user_id, await hash_password_off_loop(new_password))


def _tolerant_name(name: str) -> str:
    """A name from elsewhere (a Salla store's owner): kept when it is acceptable, dropped when it is not."""
    try:
        return _clean_name(name)
    except InvalidInput:
        return ""
