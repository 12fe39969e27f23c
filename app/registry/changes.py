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
from collections.abc import Callable

import asyncpg
import structlog

__all__ = ["APPLICATION_NAME", "PING_SECONDS", "RETRY_SECONDS", "RegistryChanges"]

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
        finally:
            self.listening = False
            self._on_lost()
            connection.terminate()

    def _notified(self, _connection: object, _pid: int, _channel: str, payload: object) -> None:
        self._on_change(str(payload))
