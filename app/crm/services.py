"""Entry points other code uses to reach a tenant's CRM: a connection through the tenant's pool and the
tenant's catalogue of objects."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from app.crm.metadata import Catalogue, ObjectDefinition, load_catalogue
from app.settings import Settings
from app.tenancy import runtime
from app.tenancy.repository import TenantRecord
from app.tenancy.services import tenant_database

__all__ = ["UnknownObject", "catalogue_of", "crm_connection", "forget_catalogue", "object_of"]

_CATALOGUE_SECONDS = 30.0
"""How long a process trusts its copy of a tenant's catalogue (custom fields change it, rarely)."""
_catalogues: dict[str, tuple[float, Catalogue]] = {}


class UnknownObject(LookupError):
    pass


@asynccontextmanager
async def crm_connection(tenant: TenantRecord, settings: Settings) -> AsyncIterator[asyncpg.Connection]:
    """A connection to the tenant's own database, as the tenant's own role."""
    async with runtime.pools().connection(await tenant_database(tenant, settings)) as connection:
        yield connection


async def catalogue_of(connection: asyncpg.Connection, tenant: TenantRecord) -> Catalogue:
    cached = _catalogues.get(str(tenant.id))
    if cached is None or time.monotonic() - cached[0] > _CATALOGUE_SECONDS:
        cached = (time.monotonic(), await load_catalogue(connection))
        _catalogues[str(tenant.id)] = cached
    return cached[1]


async def object_of(connection: asyncpg.Connection, tenant: TenantRecord, name: str) -> ObjectDefinition:
    obj = (await catalogue_of(connection, tenant)).get(name)
    if obj is None:
        raise UnknownObject(f"There is no object '{name}'.")
    return obj


def forget_catalogue(tenant: TenantRecord) -> None:
    """Call after changing a tenant's objects or fields."""
    _catalogues.pop(str(tenant.id), None)
