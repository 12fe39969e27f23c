"""What every job receives in its ``ctx``: SAQ's own context plus Wosool's worker facts."""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

from redis.asyncio import Redis
from saq.types import Context

from app.settings import Settings

__all__ = ["JobContext", "WorkerFacts"]


class WorkerFacts(TypedDict):
    settings: Settings
    redis: Redis
    hostname: str
    pid: int
    started_at: datetime


class JobContext(Context, total=False):
    wosool: WorkerFacts
