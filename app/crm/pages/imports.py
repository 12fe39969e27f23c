"""Dashboard pages: imports (being built)."""

from __future__ import annotations

from typing import Any

__all__ = ["IMPORT_PAGE_ROUTES"]

IMPORT_PAGE_ROUTES: list[Any] = []
