"""The one SAQ queue, on Redis."""

from __future__ import annotations

from saq import Queue

from app.settings import Settings

__all__ = ["create_queue"]


def create_queue(settings: Settings) -> Queue:
    return Queue.from_url(settings.redis_url, name=settings.queue_name)
