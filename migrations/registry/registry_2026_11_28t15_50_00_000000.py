from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-28T15:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "tell every process when a membership, or what a membership shows of its user or tenant, changes"


class _Raw(Table, tablename="_raw"):
    """Only a handle for raw SQL inside this migration."""


# Web processes remember memberships (app/accounts/memberships.py) and listen on this channel. A trigger notifies
# in the transaction that makes the change, so the notice goes out exactly when the change commits, whichever
# process, script or console made it. Payloads: "user:<id>" or "tenant:<id>".
_STATEMENTS = [
    """
    CREATE FUNCTION wosool_access_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_TABLE_NAME = 'memberships' THEN
            IF TG_OP <> 'INSERT' THEN
                PERFORM pg_notify('wosool_access', 'user:' || OLD."user");
            END IF;
            IF TG_OP <> 'DELETE' THEN
                PERFORM pg_notify('wosool_access', 'user:' || NEW."user");
            END IF;
        ELSIF TG_TABLE_NAME = 'users' THEN
            PERFORM pg_notify('wosool_access', 'user:' || OLD.id);
        ELSE
            PERFORM pg_notify('wosool_access', 'tenant:' || OLD.id);
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER memberships_access_changed AFTER INSERT OR UPDATE OR DELETE ON memberships
    FOR EACH ROW EXECUTE FUNCTION wosool_access_changed()
    """,
    """
    CREATE TRIGGER users_access_changed AFTER UPDATE OF email, name OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION wosool_access_changed()
    """,
    """
    CREATE TRIGGER tenants_access_changed AFTER UPDATE OF slug, name, status OR DELETE ON tenants
    FOR EACH ROW EXECUTE FUNCTION wosool_access_changed()
    """,
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def create() -> None:
        for statement in _STATEMENTS:
            await _Raw.raw(statement)

    manager.add_raw(create)
    return manager
