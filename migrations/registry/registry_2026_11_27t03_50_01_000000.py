from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-27T03:50:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "tenancy constraints Piccolo columns cannot express"


class _Raw(Table, tablename="_raw"):
    """Only a handle for raw SQL inside this migration."""


# Rules Piccolo's columns cannot express.
_CONSTRAINTS = [
    "ALTER TABLE tenants ADD CONSTRAINT tenants_status_known CHECK "
    "(status IN ('provisioning', 'active', 'suspended', 'deleting', 'deleted', 'failed'))",
    "ALTER TABLE memberships ADD CONSTRAINT memberships_role_known CHECK (role IN ('owner', 'admin', 'member'))",
    "ALTER TABLE memberships ADD CONSTRAINT memberships_one_per_user_and_tenant UNIQUE (\"user\", tenant)",
    "ALTER TABLE idempotent_responses ADD CONSTRAINT idempotent_responses_one_per_key UNIQUE (scope, key)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def constraints() -> None:
        for statement in _CONSTRAINTS:
            await _Raw.raw(statement)

    manager.add_raw(constraints)
    return manager
