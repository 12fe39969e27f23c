"""Entry points other code uses to reach a tenant's CRM: a connection through the tenant's pool and the
tenant's catalogue of objects."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from app.crm.metadata import Catalogue, ObjectDefinition, load_catalogue
from app.settings import Settings
from app.tenancy import runtime
from app.tenancy.repository import TenantRecord
from app.tenancy.services import tenant_database

__all__ = ["UnknownObject", "catalogue_of", "crm_connection", "object_of"]

_catalogues: dict[str, tuple[int, Catalogue]] = {}
"""Per tenant: the catalogue version (tenant migration 0006 bumps it on every change) and the catalogue."""


class UnknownObject(LookupError):
    pass


@asynccontextmanager
async def crm_connection(tenant: TenantRecord, settings: Settings) -> AsyncIterator[asyncpg.Connection]:
    """A connection to the tenant's own database, as the tenant's own role."""
    async with runtime.pools().connection(await tenant_database(tenant, settings)) as connection:
        yield connection


async def catalogue_of(connection: asyncpg.Connection, tenant: TenantRecord) -> Catalogue:
    """The tenant's catalogue, reloaded whenever any process has changed it (one tiny query per call)."""
    version: int = await connection.fetchval("SELECT version FROM crm_catalogue_version")
    cached = _catalogues.get(str(tenant.id))
    if cached is None or cached[0] != version:
        cached = (version, await load_catalogue(connection))
        _catalogues[str(tenant.id)] = cached
    return cached[1]


async def object_of(connection: asyncpg.Connection, tenant: TenantRecord, name: str) -> ObjectDefinition:
    obj = (await catalogue_of(connection, tenant)).get(name)
    if obj is None:
        raise UnknownObject(f"There is no object '{name}'.")
    return obj
