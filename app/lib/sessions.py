"""Server-side sessions in Redis that cost nothing until someone signs in, and at most one read per request after.

Litestar's stock backend stores an empty session and sets a cookie on every response, so each anonymous
request (a probe, a bot, a storefront visitor) would write a key to Redis. This backend stores a session
only once it holds data, and clears the cookie when a session is emptied (sign-out).

It also writes a session (and sends its cookie) only when the request changed it, or once a day, which slides both
the cookie's and the stored copy's 14 days: a signed-in member's page views cost one Redis read each, not a read
and a write; none while the web process remembers the session (app/lib/remembered_sessions.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.stores.base import Store
from litestar.stores.redis import RedisStore
from litestar.types import Empty, Message, ScopeSession
from litestar.utils.dataclass import extract_dataclass_items
from redis.asyncio import Redis

from app.lib.remembered_sessions import remembered_sessions

__all__ = ["LazySessionConfig"]


ROTATE = "_rotate"
"""Put ``{"_rotate": True}`` in a session (at sign-in) to move it to a new id and drop the old one."""
RENEWED_ON = "_renewed_on"
"""The day (ISO date, UTC) the session's cookie was last sent: an unchanged session is sent again the next day."""
_LOADED = "_session_as_loaded"
"""Where the request's scope state keeps the session's bytes as they were read."""


class LazySessionBackend(ServerSideSessionBackend):
    # Reads, writes and deletes go through the process's memory of sessions (app/lib/remembered_sessions.py) when
    # the store is the app's Redis one, as it always is outside of tests of other stores.

    async def get(self, session_id: str, store: Store) -> bytes | None:
        if isinstance(store, RedisStore) and not self.config.renew_on_access:
            return await remembered_sessions.read(_redis_of(store), _key_in(store, session_id))
        return await super().get(session_id, store)

    async def set(self, session_id: str, data: bytes, store: Store) -> None:
        if isinstance(store, RedisStore):
            expires_in = int(self.config.max_age) if self.config.max_age is not None else None
            await remembered_sessions.write(_redis_of(store), _key_in(store, session_id), data, expires_in)
            return
        await super().set(session_id, data, store)

    async def delete(self, session_id: str, store: Store) -> None:
        if isinstance(store, RedisStore):
            await remembered_sessions.delete(_redis_of(store), _key_in(store, session_id))
            return
        await super().delete(session_id, store)

    async def load_from_connection(self, connection: ASGIConnection[Any, Any, Any, Any]) -> dict[str, Any]:
        session_id = connection.cookies.get(self.config.key)
        if not session_id or session_id == "null":
            return {}
        data = await self.get(session_id, store=self.config.get_store_from_app(connection.scope["app"]))
        if data is None:
            return {}
        connection.scope.setdefault("state", {})[_LOADED] = data
        loaded: dict[str, Any] = self.deserialize_data(data)
        return loaded

    def get_session_id(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        session = connection.scope.get("session")
        if isinstance(session, dict) and session.pop(ROTATE, False):
            connection.scope.setdefault("state", {})["_old_session_id"] = connection.cookies.get(self.config.key)
            return self.generate_session_id()
        if not session and not connection.cookies.get(self.config.key):
            return ""  # no session yet: an id is made when one is first stored, not for every anonymous request
        return super().get_session_id(connection)

    async def store_in_message(
        self, scope_session: ScopeSession, message: Message, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> None:
        if scope_session is not Empty and scope_session:
            if isinstance(scope_session, dict):
                if self._unchanged_today(scope_session, connection):
                    return
                scope_session[RENEWED_ON] = _today()
            await super().store_in_message(scope_session, message, connection)
            old_id = connection.scope.get("state", {}).pop("_old_session_id", None)
            if old_id and old_id != "null":
                await self.delete(old_id, store=self.config.get_store_from_app(connection.scope["app"]))
            return
        existing = connection.cookies.get(self.config.key)
        if not existing or existing == "null":
            return  # never had a session: nothing to store, no cookie to send
        await self.delete(existing, store=self.config.get_store_from_app(connection.scope["app"]))
        cookie_params = dict(extract_dataclass_items(self.config, exclude_none=True, include=Cookie.__dict__.keys()))
        MutableScopeHeaders.from_message(message).add(
            "Set-Cookie",
            Cookie(value="null", key=self.config.key, expires=0, **cookie_params).to_header(header=""),
        )

    def _unchanged_today(self, session: dict[str, Any], connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
        loaded = connection.scope.get("state", {}).get(_LOADED)
        return (
            loaded is not None
            and ROTATE not in session
            and session.get(RENEWED_ON) == _today()
            and self.serialize_data(session, connection.scope) == loaded
        )


def _redis_of(store: RedisStore) -> Redis:
    return store._redis  # Litestar's RedisStore offers no public way to its client


def _key_in(store: RedisStore, session_id: str) -> str:
    """The Redis key ``store`` keeps ``session_id`` under (as `RedisStore._make_key` makes it)."""
    return f"{store.namespace}:{session_id}" if store.namespace else session_id


def _today() -> str:
    return dt.datetime.now(dt.UTC).date().isoformat()


@dataclass
class LazySessionConfig(ServerSideSessionConfig):
    _backend_class = LazySessionBackend
