"""Signed-in sessions remembered by each web process, and forgotten the moment any process changes them.

Sessions live in Redis (app/lib/sessions.py), and reading one cost every dashboard request a Redis round trip (as
much of the web process's CPU as the rest of the session's handling). So a web process remembers the sessions it
read. Every change to a session (sign-in, renewal, sign-out) is written together with a notice on the
`CHANNEL` in one Redis transaction, and every web process subscribes to that channel: a session signed out in one
process is forgotten by all of them as the notice arrives (a millisecond or so; at once in the process that signed
it out). The notice names the session by a digest of its key, never the id itself.

Nothing is remembered while the process is not subscribed (the subscription lost or not started yet): then every
read goes to Redis. A read that raced a notice does not remember what it read. An entry lives no
longer than the session's time to live in Redis, and at most `MAX_AGE_SECONDS` (in case a key is changed behind
Wosool's back, say with redis-cli).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import time

import structlog
from redis.asyncio import Redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from app.lib.remembered import MISSING, Expiring

__all__ = ["CHANNEL", "MAX_AGE_SECONDS", "RememberedSessions", "remembered_sessions", "subscriber_name"]

CHANNEL = "wosool:sessions:changed"
MAX_AGE_SECONDS = 60.0
REMEMBERED_LIMIT = 10_000
"""Most sessions a process remembers; the oldest go first."""
PING_SECONDS = 10.0
"""How often a quiet subscription is checked (a connection that drops packets closes nothing)."""
RETRY_SECONDS = 1.0
log = structlog.get_logger("wosool.sessions")


def subscriber_name() -> str:
    """How this process's subscription shows in Redis's ``CLIENT LIST``."""
    return f"wosool-session-notices-{os.getpid()}"


def _digest(key: str) -> str:
    return hashlib.blake2b(key.encode(), digest_size=16).hexdigest()


class RememberedSessions:
    def __init__(self) -> None:
        self._entries: Expiring[str, bytes] = Expiring(REMEMBERED_LIMIT)
        """digest of the key -> the stored bytes."""
        self._task: asyncio.Task[None] | None = None
        self._users = 0
        self.listening = False

    async def read(self, redis: Redis, key: str) -> bytes | None:
        digest = _digest(key)
        now = time.monotonic()
        remembered = self._entries.get(digest, now)
        if remembered is not MISSING and self.listening:
            return remembered
        seen = self._entries.changes
        async with redis.pipeline(transaction=False) as pipe:
            pipe.get(key)
            pipe.pttl(key)
            data, ttl_ms = await pipe.execute()
        if data is not None and seen == self._entries.changes and self.listening and ttl_ms > 0:
            self._entries.put(digest, data, now + min(MAX_AGE_SECONDS, ttl_ms / 1000))
        return data  # type: ignore[no-any-return]

    async def write(self, redis: Redis, key: str, data: bytes, expires_in: int | None) -> None:
        digest = _digest(key)
        async with redis.pipeline(transaction=True) as pipe:
            pipe.set(key, data, ex=expires_in)
            pipe.publish(CHANNEL, digest)
            await pipe.execute()
        self._entries.forget(digest)  # here at once; the notice tells the other processes

    async def delete(self, redis: Redis, key: str) -> None:
        digest = _digest(key)
        async with redis.pipeline(transaction=True) as pipe:
            pipe.delete(key)
            pipe.publish(CHANNEL, digest)
            await pipe.execute()
        self._entries.forget(digest)

    def start(self, redis_url: str) -> None:
        """Subscribe to the notices (web processes, at start-up), or join the subscription already started (web and
        worker share a process under `wosool dev`)."""
        self._users += 1
        if self._task is None:
            self._task = asyncio.create_task(self._listen_forever(redis_url), name=f"subscribe {CHANNEL}")

    async def stop(self) -> None:
        self._users = max(0, self._users - 1)
        task, self._task = (self._task, None) if self._users == 0 else (None, self._task)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            self._entries.clear()

    async def _listen_forever(self, redis_url: str) -> None:
        while True:
            # A client of its own, which never quietly reconnects: notices sent while it reconnected would be lost
            # without a word. This one fails, and everything remembered is forgotten.
            redis = Redis.from_url(
                redis_url, socket_connect_timeout=2, retry=Retry(NoBackoff(), 0), client_name=subscriber_name()
            )
            try:
                await self._listen_once(redis)
            except (RedisError, OSError) as error:
                log.warning("session notices lost", error=type(error).__name__)
            finally:
                with contextlib.suppress(RedisError, OSError):
                    await redis.aclose()
            await asyncio.sleep(RETRY_SECONDS)

    async def _listen_once(self, redis: Redis) -> None:
        pubsub = redis.pubsub()
        try:
            await pubsub.subscribe(CHANNEL)
            heard = time.monotonic()
            while True:
                message = await pubsub.get_message(timeout=PING_SECONDS)
                now = time.monotonic()
                if message is None:
                    if now - heard > 2.5 * PING_SECONDS:
                        raise ConnectionError("the session notices went quiet")
                    await pubsub.ping()
                    continue
                heard = now
                if message["type"] == "subscribe":
                    self._entries.clear()  # what was remembered before may be out of date
                    self.listening = True
                elif message["type"] == "message":
                    data = message["data"]
                    self._entries.forget(data.decode() if isinstance(data, bytes) else str(data))
        finally:
            self.listening = False
            self._entries.clear()
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()  # type: ignore[no-untyped-call]


remembered_sessions = RememberedSessions()
"""The process's one memory of sessions."""
