"""Entry points other code uses to reach a tenant's CRM: a connection through the tenant's pool and the
tenant's catalogue of objects.

Each process remembers a tenant's catalogue by its version, which tenant migrations 0006 and 0011 bump in the
transaction that changes an object, a field or a saved view, and 0013 announces on `CATALOGUE_CHANNEL` as it
commits. Every pooled tenant connection listens there (app/tenancy/pools.py), so a connection that has read the
version once knows it is still current until it hears otherwise: most requests need not ask. A change is seen by
the process that made it at once (its connection hears its own notice before the commit returns), and by the
others as soon as the notice reaches them (well under a millisecond on an idle connection, where a request on a
stale catalogue would have started a moment earlier). A connection that does not listen (one-off commands, tests'
own connections), a transaction (which may have changed the catalogue itself) and a connection that last read the
version more than `RECHECK_SECONDS` ago read it, as every call did before.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
import structlog

from app.crm.metadata import Catalogue, ObjectDefinition, load_catalogue
from app.settings import Settings
from app.tenancy import runtime
from app.tenancy.pools import listen_on_tenant_connections, notes_of
from app.tenancy.repository import TenantRecord
from app.tenancy.services import tenant_database

__all__ = [
    "CATALOGUES_REMEMBERED",
    "CATALOGUE_CHANNEL",
    "RECHECK_SECONDS",
    "UnknownObject",
    "catalogue_of",
    "crm_connection",
    "object_of",
]

CATALOGUE_CHANNEL = "wosool_catalogue"
"""Where tenant migration 0013 announces each new catalogue version (the payload)."""

RECHECK_SECONDS = 60.0
"""A connection reads the version itself at least this often, in case a change slipped past the triggers (say an
operator's ``session_replication_role = replica`` session)."""

log = structlog.get_logger("wosool.crm")

CATALOGUES_REMEMBERED = 1000
"""Most tenants a process remembers the catalogue of; the least recently used go first (a catalogue is some tens of
kilobytes, and a process may serve thousands of tenants over a day)."""


@dataclass
class _Known:
    """What this process knows of one tenant's catalogue."""

    version: int = 0
    catalogue: Catalogue | None = None
    newest_heard: int = 0
    """The newest version any connection of this process has heard of."""


_known: OrderedDict[str, _Known] = OrderedDict()
"""By tenant id, least recently used first."""
_VERSION, _CHECKED = "catalogue_version", "catalogue_checked"
"""A connection's notes: the newest version it read or heard of, and when it last read it (monotonic clock)."""


class UnknownObject(LookupError):
    pass


@asynccontextmanager
async def crm_connection(tenant: TenantRecord, settings: Settings) -> AsyncIterator[asyncpg.Connection]:
    """A connection to the tenant's own database, as the tenant's own role."""
    async with runtime.pools().connection(await tenant_database(tenant, settings)) as connection:
        yield connection


async def catalogue_of(connection: asyncpg.Connection, tenant: TenantRecord) -> Catalogue:
    """The tenant's catalogue as of now, whichever process changed it last (see the module's docstring)."""
    known = _known_of(str(tenant.id))
    notes = notes_of(connection)
    outside_transaction = not connection.is_in_transaction()
    now = time.monotonic()
    if known.catalogue is not None and notes is not None and outside_transaction and _current(notes, known, now):
        return known.catalogue
    version: int = await connection.fetchval("SELECT version FROM crm_catalogue_version")
    if known.catalogue is not None and known.version == version:
        catalogue = known.catalogue
    else:
        catalogue = await load_catalogue(connection)
    if outside_transaction:  # inside one, the version may be the transaction's own, and may never commit
        known.version, known.catalogue = version, catalogue
        if notes is not None:
            _note(notes, version)
            notes[_CHECKED] = now
    return catalogue


def _known_of(tenant_id: str) -> _Known:
    known = _known.get(tenant_id)
    if known is None:
        known = _known[tenant_id] = _Known()
        while len(_known) > CATALOGUES_REMEMBERED:
            _known.popitem(last=False)
    else:
        _known.move_to_end(tenant_id)
    return known


def _current(notes: dict[str, Any], known: _Known, now: float) -> bool:
    """Whether the connection vouches for the version remembered: it read or heard of it, nothing newer has been
    heard since, and it read the version itself lately."""
    return (
        notes.get(_VERSION) == known.version
        and known.newest_heard <= known.version
        and now - notes.get(_CHECKED, float("-inf")) < RECHECK_SECONDS
    )


def _note(notes: dict[str, Any], version: int) -> None:
    notes[_VERSION] = max(notes.get(_VERSION, 0), version)


def _heard(tenant_id: str, notes: dict[str, Any], payload: str) -> None:
    """A notice of a new catalogue version on one of the tenant's connections."""
    known = _known_of(tenant_id)
    try:
        version = int(payload)
    except ValueError:
        log.warning("unreadable catalogue notice", payload=payload[:100])
        known.catalogue = None  # read it anew
        return
    _note(notes, version)
    known.newest_heard = max(known.newest_heard, version)


listen_on_tenant_connections(CATALOGUE_CHANNEL, _heard)


async def object_of(connection: asyncpg.Connection, tenant: TenantRecord, name: str) -> ObjectDefinition:
    obj = (await catalogue_of(connection, tenant)).get(name)
    if obj is None:
        raise UnknownObject(f"There is no object '{name}'.")
    return obj
