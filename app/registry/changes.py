"""Hear about changes to the registry as they commit: PostgreSQL LISTEN on a connection of its own.

Triggers in the registry ``pg_notify`` a channel in the transaction that changes a row, so a notice goes out when
(and only if) the change commits, whoever made it. A process that remembers registry rows listens here and forgets
what a notice names. While the connection is down nothing would be heard, so `RegistryChanges` says so
(``listening`` is False, and ``on_lost`` is called) and reconnects; a connection that stops answering (a network
that drops packets without closing anything) is found by a ping every `PING_SECONDS`.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable

import asyncpg
import structlog

__all__ = [
    "ACCESS_CHANNEL",
    "APPLICATION_NAME",
    "PING_SECONDS",
    "RETRY_SECONDS",
    "AccessNotices",
    "RegistryChanges",
    "access_notices",
]

ACCESS_CHANNEL = "wosool_access"
"""Where the registry's triggers say a user (``user:<id>``) or a tenant (``tenant:<id>``) changed: a membership, or
what a membership or a tenant lookup shows of them (registry migrations of 2026-11-28)."""

APPLICATION_NAME = "wosool registry listener"
"""How the listening connections show in ``pg_stat_activity``."""

PING_SECONDS = 10.0
RETRY_SECONDS = 1.0
_CONNECT_TIMEOUT_SECONDS = 5.0
log = structlog.get_logger("wosool.registry")


class RegistryChanges:
    """Listens on ``channel`` of the registry at ``dsn`` until stopped: ``on_change(payload)`` for every notice,
    ``on_lost()`` whenever notices may have been missed (before listening starts, and each time the connection is
    lost)."""

    def __init__(
        self, dsn: str, channel: str, *, on_change: Callable[[str], None], on_lost: Callable[[], None]
    ) -> None:
        self._dsn = dsn
        self._channel = channel
        self._on_change = on_change
        self._on_lost = on_lost
        self._task: asyncio.Task[None] | None = None
        self.listening = False

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._listen_forever(), name=f"listen {self._channel}")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _listen_forever(self) -> None:
        while True:
            try:
                await self._listen_once()
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                log.warning("registry listener lost", channel=self._channel, error=type(error).__name__)
            await asyncio.sleep(RETRY_SECONDS)

    async def _listen_once(self) -> None:
        connection = await asyncpg.connect(
            self._dsn, timeout=_CONNECT_TIMEOUT_SECONDS, server_settings={"application_name": APPLICATION_NAME}
        )
        closed = asyncio.Event()
        connection.add_termination_listener(lambda _connection: closed.set())
        try:
            await connection.add_listener(self._channel, self._notified)
            self._on_lost()  # what was remembered before listening began may already be out of date
            self.listening = True
            while not closed.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(closed.wait(), PING_SECONDS)
                    break
                await connection.fetchval("SELECT 1", timeout=PING_SECONDS / 2)
            raise ConnectionError("the listening connection closed")
        finally:
            self.listening = False
            self._on_lost()
            connection.terminate()

    def _notified(self, _connection: object, _pid: int, _channel: str, payload: object) -> None:
        self._on_change(str(payload))


class AccessNotices:
    """The process's one listener on `ACCESS_CHANNEL`, shared by whatever remembers users, memberships or tenants:
    each registers what to forget when a ``user`` or ``tenant`` notice names an id, and when notices may have been
    missed. Web processes start it (app/factory.py); elsewhere nothing is heard and nothing should be remembered
    for long (``hearing`` is False)."""

    def __init__(self) -> None:
        self._forgetters: dict[str, list[Callable[[uuid.UUID], None]]] = {"user": [], "tenant": []}
        self._on_lost: list[Callable[[], None]] = []
        self._listener: RegistryChanges | None = None
        self._users = 0

    @property
    def hearing(self) -> bool:
        return self._listener is not None and self._listener.listening

    def on_change(self, kind: str, forget: Callable[[uuid.UUID], None]) -> None:
        self._forgetters[kind].append(forget)

    def on_lost(self, forget_everything: Callable[[], None]) -> None:
        self._on_lost.append(forget_everything)

    def start(self, dsn: str) -> None:
        """Start listening, or join the listener already started (web and worker share a process under `wosool dev`)."""
        self._users += 1
        if self._listener is None:
            self._listener = RegistryChanges(dsn, ACCESS_CHANNEL, on_change=self._changed, on_lost=self._lost)
            self._listener.start()

    async def stop(self) -> None:
        """Leave the listener; the last one out stops it."""
        self._users = max(0, self._users - 1)
        if self._users == 0 and self._listener is not None:
            listener, self._listener = self._listener, None
            await listener.stop()
            self._lost()

    def _changed(self, payload: str) -> None:
        kind, _, raw_id = payload.partition(":")
        try:
            changed = uuid.UUID(raw_id)
        except ValueError:
            log.warning("unreadable access notice", payload=payload[:100])
            self._lost()
            return
        for forget in self._forgetters.get(kind, ()):
            forget(changed)

    def _lost(self) -> None:
        for forget_everything in self._on_lost:
            forget_everything()


access_notices = AccessNotices()
"""The process's one listener on the registry's access notices."""
