"""Dashboard pages: lists (being built)."""

from __future__ import annotations

from typing import Any

__all__ = ["LIST_ROUTES"]

LIST_ROUTES: list[Any] = []
