"""Piccolo's configuration module (found through the ``PICCOLO_CONF`` environment variable).

The engine starts without a DSN: `app.registry.database.bind()` points it at the registry database
once the settings (or the embedded server) are known. Piccolo keeps one engine per process; there is
no per-query database switch, which is why tenant databases do not use Piccolo.
"""

from __future__ import annotations

import os

from piccolo.conf.apps import AppRegistry
from piccolo.engine.postgres import PostgresEngine

DB = PostgresEngine(config={"dsn": os.environ.get("DATABASE_URL", "")})

APP_REGISTRY = AppRegistry(apps=["app.registry.piccolo_app"])
