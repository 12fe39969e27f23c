"""Dashboard pages: settings (being built)."""

from __future__ import annotations

from typing import Any

__all__ = ["SETTINGS_ROUTES"]

SETTINGS_ROUTES: list[Any] = []
