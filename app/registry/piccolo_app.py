"""The Piccolo app that groups every registry table; migrations live in ``migrations/registry/``."""

from __future__ import annotations

from piccolo.conf.apps import AppConfig

from app.accounts.tables import ApiKey, IdempotentResponse, Membership, User
from app.admin.tables import AuditEntry
from app.ops.tables import WorkerHeartbeat
from app.salla.tables import SallaStore, SallaSync, SallaWebhook
from app.settings import PROJECT_ROOT
from app.tenancy.tables import DatabaseServer, Tenant

APP_CONFIG = AppConfig(
    app_name="registry",
    migrations_folder_path=str(PROJECT_ROOT / "migrations" / "registry"),
    table_classes=[
        WorkerHeartbeat,
        DatabaseServer,
        Tenant,
        User,
        Membership,
        IdempotentResponse,
        ApiKey,
        AuditEntry,
        SallaStore,
        SallaWebhook,
        SallaSync,
    ],
    migration_dependencies=[],
    commands=[],
)
