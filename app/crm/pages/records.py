"""Dashboard pages: records (being built)."""

from __future__ import annotations

from typing import Any

__all__ = ["RECORD_PAGE_ROUTES"]

RECORD_PAGE_ROUTES: list[Any] = []
