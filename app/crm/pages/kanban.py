"""Dashboard pages: kanban (being built)."""

from __future__ import annotations

from typing import Any

__all__ = ["KANBAN_ROUTES"]

KANBAN_ROUTES: list[Any] = []
