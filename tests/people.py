"""Personas for access tests: alice owns tenant A ("acme"), bob is a member of A, charlie owns tenant B
("noor"). Each is created through the real services and provisioned for real."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from redis.asyncio import Redis
from saq import Queue

from app.accounts import repository, services
from app.accounts.passwords import hash_password
from app.accounts.services import Registration
from app.settings import Settings
from app.tenancy import provisioning
from app.tenancy.repository import TenantRecord

__all__ = ["PASSWORD", "Person", "add_member", "create_organization", "register_organization", "sign_in"]

PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Person:
    email: str
    password: str = PASSWORD


async def create_organization(
    settings: Settings, redis: Redis, queue: Queue, *, slug: str, owner: str, name: str = ""
) -> TenantRecord:
    """Register and provision a tenant owned by ``owner`` (an e-mail address)."""
    registered = await register_organization(settings, redis, queue, slug=slug, owner=owner, name=name)
    return await provisioning.provision(registered.id, settings, redis)


async def register_organization(
    settings: Settings, redis: Redis, queue: Queue, *, slug: str, owner: str, name: str = ""
) -> TenantRecord:
    """Register a tenant owned by ``owner`` (an e-mail address); `provisioning.provision` makes it usable."""
    registered = await services.register_organization(
        Registration(name=name or slug.title(), slug=slug, email=owner, password=PASSWORD),
        settings=settings,
        queue=queue,
        redis=redis,
    )
    assert registered.tenant is not None
    return registered.tenant


async def add_member(tenant: TenantRecord, email: str, role: str = "member") -> None:
    user = await repository.user_by_email(email)
    if user is None:
        user = await repository.insert_user(email=email, name="", password_hash=hash_password(PASSWORD))
    await repository.insert_membership(user_id=user.id, tenant_id=tenant.id, role=role)


async def sign_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    """Sign in through the real form, CSRF token included; the client keeps the session cookie."""
    await client.get("/login")
    return await client.post(
        "/login",
        data={"email": email, "password": password, "next": ""},
        headers={"x-csrftoken": client.cookies.get("csrftoken", "")},
    )
