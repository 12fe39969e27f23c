from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-28T16:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "tell every process when any column of a tenant changes"


class _Raw(Table, tablename="_raw"):
    """Only a handle for raw SQL inside this migration."""


# Web processes now also remember tenant lookups for as long as they hear these notices (app/tenancy/cache.py), and
# a lookup holds more than the slug, name and status (the database, its server, the role's password): every change
# of a tenant's row must be heard.
_STATEMENTS = [
    "DROP TRIGGER tenants_access_changed ON tenants",
    """
    CREATE TRIGGER tenants_access_changed AFTER UPDATE OR DELETE ON tenants
    FOR EACH ROW EXECUTE FUNCTION wosool_access_changed()
    """,
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def change() -> None:
        for statement in _STATEMENTS:
            await _Raw.raw(statement)

    manager.add_raw(change)
    return manager
