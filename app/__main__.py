"""``python -m app`` is the same as the ``wosool`` command."""

from __future__ import annotations

from app.cli import main

if __name__ == "__main__":
    main()
