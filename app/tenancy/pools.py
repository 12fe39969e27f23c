"""Connections to tenant databases: one small asyncpg pool per tenant, in an LRU, under one global budget.

Each tenant database is reached as the tenant's own login role, so every tenant needs its own pool, and
thousands of tenants must never mean thousands of open connections (PostgreSQL's ``max_connections`` is
shared by every process on every host).

How the budget stays exact
--------------------------
A *slot* stands for one connection to PostgreSQL in any state: about to be opened, checked out, idle in its
pool, or being closed. A slot is taken *before* a socket is opened and given back only by the connection's
termination listener, once it is closed. Our closes are graceful: asyncpg sends Terminate and waits for the
server to drop the socket, and PostgreSQL drops it only after the backend has left ``pg_stat_activity``. So the
backends the server shows for this process never outnumber the slots, and the slots never outnumber ``budget``.
(Only an aborted socket — asyncpg's backstop timer below, a close that times out, a connection that broke — can
leave a backend exiting for a moment after its slot is back.)

Getting a connection
--------------------
A request is served by an idle connection of its tenant's pool when there is one. Otherwise it reserves a slot
and its pool opens a connection. When the budget is full, the request waits for whichever comes first: one of
its tenant's connections coming back, or a slot. A tenant with no connection is *needy*: slots are freed for it,
cheapest first: idle connections another pool can spare (a pool keeps its last one), then the least recently
used pools with no work in flight, which are evicted. A tenant whose connections are all checked out waits its
turn on them instead (under pressure pools take turns rather than grow at each other's expense) and becomes
needy only after ``_OWN_TURN_SECONDS``, say behind a long query. Checked-out connections are never touched.
Freed slots go to needy requests first, first come, first served; a request that waits longer than
``acquire_timeout`` gets `PoolBudgetTimeout`.

A tenant's own connections are handed out first come, first served too: at most ``per_tenant_max`` of its
requests hold or look for one at a time (``_TenantPool.turns``), the others queue for a turn. asyncpg's own queue
is not fair: a request arriving just as a connection comes back takes it ahead of the request woken for it, which
then queues again at the back. Under load (32 requests on one tenant) that made the slowest 5% of dashboard pages
take twice as long as the median.

An evicted pool leaves the LRU at once (the tenant's next request opens a new pool); if it still has work in
flight (`close_tenant`, new credentials), it closes once that work is done: a running query is never killed.

A background reaper (`TenantPools.start`) closes pools unused for ``idle_seconds`` and, in pools still in use,
connections idle that long. asyncpg's own inactivity timer stays on as a backstop, a little later, because it
aborts the socket instead of closing it gracefully.

Everything runs on one event loop; nothing here is thread-safe. DSNs (they hold passwords) are never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import json
import re
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import msgspec
import structlog

from app.lib.pg import StatelessConnection

__all__ = [
    "PoolBudgetTimeout",
    "PoolSettings",
    "PoolStats",
    "TenantDatabase",
    "TenantPools",
    "listen_on_tenant_connections",
    "notes_of",
]

log = structlog.get_logger("wosool.tenancy.pools")

_OWN_TURN_SECONDS = 1.0
"""With the budget full, a tenant whose connections are all checked out waits for one of them (or for a slot that
costs nobody their last connection) this long at most, or half of ``acquire_timeout``, before it may evict another
tenant's pool."""


@dataclass(frozen=True)
class TenantDatabase:
    """How to reach one tenant's database as the tenant's own role."""

    tenant_id: str
    """Stable key for the LRU."""
    dsn: str = field(repr=False)  # holds the password: kept out of reprs and logs
    """Full asyncpg DSN: role, password, host/port or ``?host=/socket/dir``, database."""


class PoolBudgetTimeout(Exception):
    """No connection to a tenant database freed up within ``acquire_timeout`` (the web layer answers 503)."""


@dataclass(frozen=True)
class PoolSettings:
    budget: int = 50
    """Most connections this process holds to all tenant databases together."""
    per_tenant_max: int = 4
    """``max_size`` of one tenant's pool."""
    idle_seconds: float = 60.0
    """A pool (or a connection in a pool) unused this long is closed by the reaper."""
    acquire_timeout: float = 5.0
    """Waiting longer than this for a connection raises `PoolBudgetTimeout`."""
    connect_timeout: float = 5.0
    """For opening, and for gracefully closing, one connection."""

    def __post_init__(self) -> None:
        if self.budget < 1 or self.per_tenant_max < 1:
            raise ValueError("budget and per_tenant_max must be at least 1")
        if min(self.idle_seconds, self.acquire_timeout, self.connect_timeout) <= 0:
            raise ValueError("idle_seconds, acquire_timeout and connect_timeout must be positive")


@dataclass
class PoolStats:
    """Counters for metrics. ``open_connections`` counts budget slots in use (opening, open or closing)."""

    open_pools: int
    open_connections: int
    hits: int
    """Requests that found their tenant's pool open."""
    misses: int
    """Requests that had to open a pool."""
    evictions: int
    """Pools closed to make room under the budget or because they sat idle (not `close_tenant`/`close`)."""
    waits: int
    """Requests that had to wait because the budget was full (for a slot, or for their pool's connections)."""
    timeouts: int
    """Requests that gave up with `PoolBudgetTimeout`."""


class _Slots:
    """A counting semaphore whose count is exact. Freed slots are handed to waiters first come, first served,
    *needy* waiters (a request whose tenant has no connection to wait for) before those that want to grow."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.used = 0
        self._needy: deque[asyncio.Future[None]] = deque()
        self._growing: deque[asyncio.Future[None]] = deque()

    @property
    def waiting(self) -> int:
        return len(self._needy) + len(self._growing)

    @property
    def needy_waiting(self) -> int:
        return len(self._needy)

    def has_room(self) -> bool:
        return self.used < self.capacity and not self.waiting

    def try_take(self) -> bool:
        if self.has_room():
            self.used += 1
            return True
        return False

    def enqueue(self, *, needy: bool) -> asyncio.Future[None]:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        (self._needy if needy else self._growing).append(waiter)
        return waiter

    def withdraw(self, waiter: asyncio.Future[None]) -> bool:
        """Leave the queue; True if a slot had been handed over already (the caller now holds it)."""
        if waiter.done() and not waiter.cancelled():
            return True
        waiter.cancel()
        for queue in (self._needy, self._growing):
            with contextlib.suppress(ValueError):
                queue.remove(waiter)
        return False

    def give(self) -> None:
        """Return a slot: straight to a waiter if there is one (``used`` stays the same)."""
        for queue in (self._needy, self._growing):
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    waiter.set_result(None)
                    return
        self.used -= 1


@dataclass
class _Reservation:
    """A slot taken for the connection a request's pool is about to open (see `TenantPools._open_connection`)."""

    held: bool = True


_reservation: contextvars.ContextVar[_Reservation | None] = contextvars.ContextVar(
    "wosool_tenant_pool_reservation", default=None
)


class _TenantConnection(StatelessConnection):
    """A pool connection that knows its pool entry and since when it has been idle."""

    owner: _TenantPool | None = None
    idle_since: float | None = None
    """Set when released to the pool (after the reset), cleared when handed out; None while checked out."""
    closing: bool = False
    terminated: asyncio.Event | None = None
    notes: dict[str, Any] | None = None
    """What the handlers of `listen_on_tenant_connections` keep about this connection, for as long as it lives;
    None until it listens."""

    def _process_notification(self, pid: int, channel: str, payload: str) -> None:
        """Where asyncpg hands over each notice, as it reads it: ahead of whatever PostgreSQL sent after it (the
        result of a query waited for included). `add_listener` is not used because asyncpg forgets its callbacks
        on every release (``Connection.reset``), while the server goes on listening (no ``UNLISTEN``, see
        `StatelessConnection`)."""
        heard = _channels.get(channel)
        if heard is None or self.owner is None or self.notes is None:
            super()._process_notification(pid, channel, payload)
            return
        heard(self.owner.tenant_id, self.notes, payload)

    def mark_checked_out(self) -> None:
        self.idle_since = None
        if self.owner is not None:
            self.owner.idle.discard(self)

    def mark_idle(self) -> None:
        self.idle_since = time.monotonic()
        if self.owner is not None and not self.closing:
            self.owner.idle.add(self)

    def is_idle(self) -> bool:
        return self.idle_since is not None and not self.closing and not self.is_closed()

    def is_checked_out(self) -> bool:
        return self.idle_since is None and not self.closing and not self.is_closed()


async def _on_checkout(proxy: Any) -> None:
    """asyncpg ``setup`` hook, run just before a connection is handed out (it is then no longer idle).

    The proxy forwards unknown attributes to the connection."""
    proxy.mark_checked_out()


async def _init_connection(connection: _TenantConnection) -> None:
    """asyncpg ``init`` hook, once per new connection: json and jsonb travel as Python values both ways, and the
    connection listens on the channels of `listen_on_tenant_connections`."""
    for kind in ("json", "jsonb"):
        await connection.set_type_codec(kind, encoder=json.dumps, decoder=_from_json_text, schema="pg_catalog")
    if _channels:
        await connection.execute("; ".join(f"LISTEN {channel}" for channel in _channels))
    connection.notes = {}


# -- notices -------------------------------------------------------------------------------------------------

NoticeHandler = Callable[[str, dict[str, Any], str], None]
"""Called with the tenant's id, the notes of the connection that heard the notice (`notes_of`) and its payload."""

_channels: dict[str, NoticeHandler] = {}


def listen_on_tenant_connections(channel: str, heard: NoticeHandler) -> None:
    """Every tenant connection opened from now on LISTENs on ``channel`` for as long as it lives; ``heard`` is
    called for each notice it hears, as asyncpg reads it.

    PostgreSQL sends a notice when the transaction that sent it commits: to each other listening connection as
    soon as that one is idle (or at the end of its current statement), to the committing connection itself just
    before the commit returns."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", channel):
        raise ValueError(f"not a plain channel name: {channel!r}")
    _channels[channel] = heard


def notes_of(connection: asyncpg.Connection) -> dict[str, Any] | None:
    """A listening tenant connection's notes (pooled, or a pool's proxy of one); None for any other connection,
    which hears nothing."""
    notes: dict[str, Any] | None = getattr(connection, "notes", None)
    return notes


_JSONB_VERSION = "\x01"


def _from_json_text(text: str) -> Any:
    """JSON text as Python values, by msgspec: json.loads spent about a microsecond on each value, a hundred on a
    list page of customers (two jsonb columns a row, mostly ``[]``); msgspec a tenth of that. Anything msgspec
    refuses (a number beyond a float's range) goes to json.loads, as before.

    Inside a row value (search reads its hits' fields as one) PostgreSQL sends jsonb in its binary format, which
    asyncpg hands over as it comes: a version byte (1), then the text. JSON text never starts with that byte. (The
    binary format for every jsonb value would avoid this, but decoding it cost a list page 20-60 microseconds.)"""
    if text.startswith(_JSONB_VERSION):
        text = text[1:]
    try:
        return msgspec.json.decode(text)
    except msgspec.DecodeError:
        return json.loads(text)


async def _reset_on_release(connection: _TenantConnection) -> None:
    """asyncpg ``reset`` hook: the default reset (no query: see `StatelessConnection`), then mark the connection
    idle. asyncpg puts it back in the queue right after this returns, with no await in between."""
    await connection.reset()
    connection.mark_idle()


class _TenantPool:
    """One tenant's asyncpg pool and its bookkeeping (an entry of the LRU)."""

    def __init__(self, database: TenantDatabase, max_size: int) -> None:
        self.tenant_id = database.tenant_id
        self.dsn = database.dsn
        self.max_size = max_size
        self.pool: Any = None
        self.connections: set[_TenantConnection] = set()
        self.idle: set[_TenantConnection] = set()
        """Connections released to the pool and not being closed (kept up to date for `_make_room`)."""
        self.opening = 0
        self.in_flight = 0
        """Requests inside `TenantPools.connection` for this pool (waiting or holding a connection)."""
        self.last_used = time.monotonic()
        self.evicted = False
        self.closing = False
        self.closed = asyncio.Event()
        self.own_waiters: list[asyncio.Future[None]] = []
        """Requests waiting for one of this pool's connections to come back."""
        self.turns = asyncio.Semaphore(max_size)
        """Held from before a request looks for a connection until it has given it back (a FIFO queue)."""
        self._ready: asyncio.Future[Any] | None = None

    async def ready(self) -> Any:
        """The initialised asyncpg pool (initialising opens nothing: ``min_size=0``)."""
        if self._ready is None:
            self._ready = asyncio.ensure_future(self.pool)
        return await asyncio.shield(self._ready)

    @property
    def initialised(self) -> bool:
        return self._ready is not None and self._ready.done() and not self._ready.exception()

    def idle_connections(self) -> list[_TenantConnection]:
        return [connection for connection in self.idle if connection.is_idle()]

    def checked_out(self) -> int:
        return sum(connection.is_checked_out() for connection in self.connections)

    def open_connections(self) -> int:
        return sum(not connection.closing for connection in self.connections)

    def wake_own_waiters(self) -> None:
        waiters, self.own_waiters = self.own_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)


class TenantPools:
    """The per-process manager of tenant pools (see the module docstring for the rules it keeps)."""

    def __init__(self, settings: PoolSettings) -> None:
        self._settings = settings
        self._slots = _Slots(settings.budget)
        self._lru: OrderedDict[str, _TenantPool] = OrderedDict()
        self._draining: set[_TenantPool] = set()
        """Evicted entries whose pool is not closed yet (waiting for in-flight work, or closing)."""
        self._closing_connections = 0
        """Connections whose graceful close has started and whose slot has not come back yet."""
        self._tasks: set[asyncio.Task[None]] = set()
        self._reaper: asyncio.Task[None] | None = None
        self._closed = False
        self._reap_every = min(max(settings.idle_seconds / 4, 0.05), 5.0)
        self._hits = self._misses = self._evictions = self._waits = self._timeouts = 0

    # -- the public interface -----------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def connection(self, database: TenantDatabase) -> AsyncIterator[asyncpg.Connection]:
        """``async with pools.connection(db) as conn:`` — a connection of that tenant's pool.

        Raises `PoolBudgetTimeout` when none frees up within ``acquire_timeout``."""
        if self._closed:
            raise RuntimeError("the tenant pools are closed")
        entry = self._check_out(database)
        try:
            pool = await entry.ready()
            connection = await self._acquire(entry, pool)
            try:
                yield connection
            finally:
                try:
                    await pool.release(connection)  # asyncpg shields the release from cancellation
                finally:
                    entry.turns.release()
        finally:
            self._check_in(entry)

    def stats(self) -> PoolStats:
        return PoolStats(
            open_pools=len(self._lru) + len(self._draining),
            open_connections=self._slots.used,
            hits=self._hits,
            misses=self._misses,
            evictions=self._evictions,
            waits=self._waits,
            timeouts=self._timeouts,
        )

    async def close_tenant(self, tenant_id: str) -> None:
        """Close the tenant's pool once its in-flight work is done, and wait until every connection is gone
        from the server (so its database can be dropped). Requests made afterwards open a new pool: stop
        routing to the tenant first."""
        entries = [entry for entry in (*self._lru.values(), *self._draining) if entry.tenant_id == tenant_id]
        for entry in entries:
            self._retire(entry)
        await asyncio.gather(*(entry.closed.wait() for entry in entries))

    async def start(self) -> None:
        """Start the idle reaper."""
        if self._reaper is None:
            self._reaper = asyncio.create_task(self._reap_forever(), name="wosool-tenant-pool-reaper")

    async def close(self) -> None:
        """Close every pool, waiting for in-flight work; afterwards `connection` refuses."""
        self._closed = True
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
            self._reaper = None
        for entry in list(self._lru.values()):
            self._retire(entry)
        await asyncio.gather(*(entry.closed.wait() for entry in list(self._draining)))
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- requests ----------------------------------------------------------------------------------------

    def _check_out(self, database: TenantDatabase) -> _TenantPool:
        entry = self._lru.get(database.tenant_id)
        if entry is not None and entry.dsn != database.dsn:
            self._retire(entry)  # new credentials (or server): the old pool drains and closes
            entry = None
        if entry is None:
            self._misses += 1
            entry = self._new_entry(database)
            self._lru[database.tenant_id] = entry
        else:
            self._hits += 1
            self._lru.move_to_end(database.tenant_id)
        entry.in_flight += 1
        entry.last_used = time.monotonic()
        return entry

    def _check_in(self, entry: _TenantPool) -> None:
        entry.in_flight -= 1
        entry.last_used = time.monotonic()
        if entry.evicted:
            self._close_idle(entry)
        elif entry.in_flight == 0 and not entry.connections:
            self._retire(entry)  # nothing left to reuse; keeps the LRU down to pools that hold something
        elif self._slots.needy_waiting > self._closing_connections:
            self._make_room()  # before waking this pool's waiters, so the connection just released stays theirs
        entry.wake_own_waiters()

    async def _acquire(self, entry: _TenantPool, pool: Any) -> Any:
        """A connection of the pool, and the request's turn on it (give both back)."""
        deadline = asyncio.timeout(self._settings.acquire_timeout)
        try:
            async with deadline:
                waited = entry.turns.locked()
                if waited:
                    self._waits += 1
                await entry.turns.acquire()
                try:
                    return await self._acquire_in_turn(entry, pool, waited)
                except BaseException:
                    entry.turns.release()
                    raise
        except TimeoutError:
            if not deadline.expired():
                raise  # e.g. the server did not answer within connect_timeout
            self._timeouts += 1
            raise PoolBudgetTimeout(
                f"no connection to the database of tenant {entry.tenant_id!r} within "
                f"{self._settings.acquire_timeout:g} s ({self._slots.used} of {self._slots.capacity} "
                f"connections in use, {self._slots.waiting} requests waiting)"
            ) from None

    async def _acquire_in_turn(self, entry: _TenantPool, pool: Any, waited: bool) -> Any:
        reservation = _Reservation(held=await self._wait_for_room(entry, counted=waited))
        token = _reservation.set(reservation)
        try:
            # No await between the decision above and this call: an idle connection is handed out
            # at once, or the pool's connect hook takes over the reserved slot.
            return await pool.acquire()
        finally:
            _reservation.reset(token)
            if reservation.held:  # an idle connection was handed out after all, or acquire failed
                self._slots.give()

    async def _wait_for_room(self, entry: _TenantPool, *, counted: bool) -> bool:
        """Wait until the request can be served within the budget; True if a slot was reserved for it.

        Returns False at once when the pool has an idle connection, or when all its connections are checked out
        and it can open no more (asyncpg then queues the request until one comes back; with the turns, only a
        connection used outside `connection` could leave none for a request that has its turn)."""
        loop = asyncio.get_running_loop()
        needy_from = loop.time() + min(_OWN_TURN_SECONDS, self._settings.acquire_timeout / 2)
        reserved = False
        while True:
            if entry.idle_connections() or entry.checked_out() + entry.opening >= entry.max_size:
                if reserved:
                    self._slots.give()
                return False
            if reserved or self._slots.try_take():
                return True
            if not counted:
                self._waits += 1
                counted = True
            has_own = entry.checked_out() + entry.opening > 0
            needy_at = None if not has_own or loop.time() >= needy_from else needy_from
            reserved = await self._release_or_slot(entry, needy_at)

    async def _release_or_slot(self, entry: _TenantPool, needy_at: float | None) -> bool:
        """Wait for one of the pool's connections to come back or for a slot: as a needy waiter (``needy_at``
        is None), or else as one that wants to grow, until ``needy_at`` (loop time). True if a slot was handed
        over; if both happen at once the slot is passed on and the pool's own connection used."""
        loop = asyncio.get_running_loop()
        own: asyncio.Future[None] = loop.create_future()
        entry.own_waiters.append(own)
        slot = self._slots.enqueue(needy=needy_at is None)
        if needy_at is None:
            self._make_room()
        try:
            timeout = None if needy_at is None else max(0.0, needy_at - loop.time())
            await asyncio.wait([own, slot], timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            self._stop_waiting(entry, own, slot, keep_slot=False)
            raise
        return self._stop_waiting(entry, own, slot, keep_slot=not own.done())

    def _stop_waiting(
        self, entry: _TenantPool, own: asyncio.Future[None], slot: asyncio.Future[None], keep_slot: bool
    ) -> bool:
        with contextlib.suppress(ValueError):
            entry.own_waiters.remove(own)
        if not self._slots.withdraw(slot):
            return False
        if not keep_slot:
            self._slots.give()
        return keep_slot

    def _new_entry(self, database: TenantDatabase) -> _TenantPool:
        entry = _TenantPool(database, self._settings.per_tenant_max)
        entry.pool = asyncpg.create_pool(
            database.dsn,
            min_size=0,
            max_size=self._settings.per_tenant_max,
            max_inactive_connection_lifetime=self._settings.idle_seconds + 2 * self._reap_every,
            timeout=self._settings.connect_timeout,
            connection_class=_TenantConnection,
            connect=functools.partial(self._open_connection, entry),
            setup=_on_checkout,
            init=_init_connection,
            reset=_reset_on_release,
        )
        return entry

    # -- slots -------------------------------------------------------------------------------------------

    async def _open_connection(self, entry: _TenantPool, *args: Any, **kwargs: Any) -> _TenantConnection:
        """asyncpg ``connect`` hook: use the request's reserved slot (or take one), then open.

        A request that gives up mid-connect does not abort the half-open connection (the server would still hold
        a backend for a moment); it is finished and closed gracefully in the background, holding its slot."""
        reservation = _reservation.get()
        if reservation is not None and reservation.held:
            reservation.held = False  # the slot is now this connection's
        else:
            await self._take_slot()  # no reservation: asyncpg picked an empty holder although one was idle
        entry.opening += 1
        opening = asyncio.ensure_future(asyncpg.connect(*args, **kwargs))
        try:
            connection: _TenantConnection = await asyncio.shield(opening)
        except asyncio.CancelledError:
            opening.add_done_callback(self._discard_opened)
            raise
        except BaseException:
            self._slots.give()
            raise
        finally:
            entry.opening -= 1
        self._adopt(entry, connection)
        return connection

    async def _take_slot(self) -> None:
        if self._slots.try_take():
            return
        self._waits += 1
        waiter = self._slots.enqueue(needy=True)
        self._make_room()
        try:
            await waiter
        except asyncio.CancelledError:
            if self._slots.withdraw(waiter):
                self._slots.give()  # handed over just as we gave up: pass it on
            raise

    def _adopt(self, entry: _TenantPool | None, connection: _TenantConnection) -> None:
        connection.owner = entry
        connection.terminated = asyncio.Event()
        if entry is not None:
            entry.connections.add(connection)
        connection.add_termination_listener(functools.partial(self._on_terminated, connection))

    def _on_terminated(self, connection: _TenantConnection, _reference: object) -> None:
        """Termination listener: runs once per connection, whichever way it closed. Gives the slot back."""
        if connection.owner is not None:
            connection.owner.connections.discard(connection)
            connection.owner.idle.discard(connection)
            connection.owner.wake_own_waiters()
        if connection.closing:
            self._closing_connections -= 1
        if connection.terminated is not None:
            connection.terminated.set()
        self._slots.give()

    def _discard_opened(self, opening: asyncio.Future[Any]) -> None:
        if opening.cancelled() or opening.exception() is not None:
            self._slots.give()
            return
        connection: _TenantConnection = opening.result()
        self._adopt(None, connection)
        self._close_soon(connection, unless_handed_out=False)

    def _make_room(self) -> None:
        """Start closing connections until they cover the needy waiters (requests whose tenant has no connection
        to wait for, or has waited its turn long enough), cheapest first: idle connections a pool can spare (it
        keeps one), then the least recently used pools with no work in flight (evicted). Pools whose own requests
        are waiting for their connections are left alone; checked-out connections are never touched."""
        if self._slots.needy_waiting <= self._closing_connections:
            return
        entries = [entry for entry in self._lru.values() if entry.idle and not entry.own_waiters]
        for entry in entries:
            spare = entry.idle_connections()[: max(0, entry.open_connections() - 1)]
            for connection in spare[: self._slots.needy_waiting - self._closing_connections]:
                self._close_soon(connection)
        for entry in entries:
            if self._slots.needy_waiting <= self._closing_connections:
                return
            if entry.in_flight == 0 and entry.idle_connections():
                self._evictions += 1
                self._retire(entry)

    # -- closing -----------------------------------------------------------------------------------------

    def _retire(self, entry: _TenantPool) -> None:
        """Take the entry out of the LRU; close its idle connections now, and the pool once it is unused."""
        if not entry.evicted:
            entry.evicted = True
            if self._lru.get(entry.tenant_id) is entry:
                del self._lru[entry.tenant_id]
            self._draining.add(entry)
        self._close_idle(entry)

    def _close_idle(self, entry: _TenantPool) -> None:
        for connection in entry.idle_connections():
            self._close_soon(connection)
        if entry.in_flight == 0 and not entry.closing:
            entry.closing = True
            self._spawn(self._close_pool(entry))

    def _close_soon(self, connection: _TenantConnection, *, unless_handed_out: bool = True) -> None:
        if connection.closing or (connection.terminated is not None and connection.terminated.is_set()):
            return
        connection.closing = True
        if connection.owner is not None:
            connection.owner.idle.discard(connection)
        self._closing_connections += 1
        self._spawn(self._close_connection(connection, unless_handed_out))

    async def _close_connection(self, connection: _TenantConnection, unless_handed_out: bool) -> None:
        """Close gracefully. This task starts a loop turn later, when its pool may have handed the idle
        connection out again: then it is left alone. The check and the start of ``close()`` (which marks the
        connection closed before its first suspension) run with no await in between."""
        if unless_handed_out and connection.idle_since is None:
            connection.closing = False
            self._closing_connections -= 1
            return
        try:
            await connection.close(timeout=self._settings.connect_timeout)  # aborts if it times out
        except Exception as error:
            tenant = connection.owner.tenant_id if connection.owner is not None else None
            log.warning("tenant connection closed uncleanly", tenant_id=tenant, error=type(error).__name__)

    async def _close_pool(self, entry: _TenantPool) -> None:
        """Close an unused pool; return once the server has dropped all its connections."""
        try:
            connections = list(entry.connections)
            for connection in connections:  # all idle: nothing is in flight and the LRU no longer has the entry
                self._close_soon(connection, unless_handed_out=False)
            await asyncio.gather(*(c.terminated.wait() for c in connections if c.terminated is not None))
            if entry.initialised:
                await entry.pool.close()  # nothing is checked out and nothing is left open: returns at once
        except Exception as error:
            log.warning("tenant pool closed uncleanly", tenant_id=entry.tenant_id, error=type(error).__name__)
            if entry.initialised:
                entry.pool.terminate()
        finally:
            self._draining.discard(entry)
            entry.closed.set()

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- the reaper --------------------------------------------------------------------------------------

    async def _reap_forever(self) -> None:
        while True:
            await asyncio.sleep(self._reap_every)
            self._reap(time.monotonic())

    def _reap(self, now: float) -> None:
        """Evict pools unused for ``idle_seconds``; in pools still in use, close connections idle that long."""
        limit = self._settings.idle_seconds
        for entry in list(self._lru.values()):
            if entry.in_flight == 0 and now - entry.last_used >= limit:
                self._evictions += 1
                self._retire(entry)
                continue
            for connection in entry.idle_connections():
                if connection.idle_since is not None and now - connection.idle_since >= limit:
                    self._close_soon(connection)
