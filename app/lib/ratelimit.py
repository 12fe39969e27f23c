"""Fixed-window rate limits in Redis, shared by every process (logins, sign-ups, public endpoints)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from redis.asyncio import Redis

__all__ = ["Limit", "RateLimited", "hit"]


@dataclass(frozen=True)
class Limit:
    name: str
    attempts: int
    per_seconds: int


class RateLimited(Exception):
    def __init__(self, limit: Limit, retry_after: int) -> None:
        super().__init__(f"too many attempts ({limit.name}); try again in {retry_after} s")
        self.limit = limit
        self.retry_after = retry_after


async def hit(redis: Redis, limit: Limit, subject: str) -> None:
    """Count one attempt by ``subject`` (an IP, an e-mail address); raise `RateLimited` past the limit."""
    window = int(time.time()) // limit.per_seconds
    key = f"wosool:ratelimit:{limit.name}:{subject}:{window}"
    async with redis.pipeline(transaction=True) as pipe:
        pipe.incr(key)
        pipe.expire(key, limit.per_seconds + 1)
        count, _ = await pipe.execute()
    if int(count) > limit.attempts:
        retry_after = limit.per_seconds - int(time.time()) % limit.per_seconds
        raise RateLimited(limit, max(retry_after, 1))
