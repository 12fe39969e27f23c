"""Dashboard pages: palette (being built)."""

from __future__ import annotations

from typing import Any

__all__ = ["PALETTE_ROUTES"]

PALETTE_ROUTES: list[Any] = []
