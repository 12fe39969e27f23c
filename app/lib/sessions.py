"""Server-side sessions in Redis that cost nothing until someone signs in.

Litestar's stock backend stores an empty session and sets a cookie on every response, so each anonymous
request (a probe, a bot, a storefront visitor) would write a key to Redis. This backend stores a session
only once it holds data, and clears the cookie when a session is emptied (sign-out).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.types import Empty, Message, ScopeSession
from litestar.utils.dataclass import extract_dataclass_items

__all__ = ["LazySessionConfig"]


ROTATE = "_rotate"
"""Put ``{"_rotate": True}`` in a session (at sign-in) to move it to a new id and drop the old one."""


class LazySessionBackend(ServerSideSessionBackend):
    def get_session_id(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        session = connection.scope.get("session")
        if isinstance(session, dict) and session.pop(ROTATE, False):
            connection.scope.setdefault("state", {})["_old_session_id"] = connection.cookies.get(self.config.key)
            return self.generate_session_id()
        return super().get_session_id(connection)

    async def store_in_message(
        self, scope_session: ScopeSession, message: Message, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> None:
        if scope_session is not Empty and scope_session:
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


@dataclass
class LazySessionConfig(ServerSideSessionConfig):
    _backend_class = LazySessionBackend
