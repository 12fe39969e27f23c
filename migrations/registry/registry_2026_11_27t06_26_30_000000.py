from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-27T06:26:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "a person's language is ar, en or not chosen yet"


class _Raw(Table, tablename="_raw"):
    """Only a handle for raw SQL inside this migration."""


# users.locale (already there since the accounts migration) now holds each person's remembered language: sign-up
# fills it from the browser, the language switch and the profile page change it, sign-in applies it.
_CONSTRAINTS = [
    "UPDATE users SET locale = '' WHERE locale NOT IN ('', 'ar', 'en')",
    "ALTER TABLE users ADD CONSTRAINT users_locale_known CHECK (locale IN ('', 'ar', 'en'))",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def constraints() -> None:
        for statement in _CONSTRAINTS:
            await _Raw.raw(statement)

    manager.add_raw(constraints)
    return manager
