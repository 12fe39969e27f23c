from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-27T09:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "salla stores, the salla webhook inbox and sync checkpoints"


class _Raw(Table, tablename="_raw"):
    """Only a handle for raw SQL inside this migration."""


# Raw SQL: the composite unique key of salla_syncs and the partial index the inbox sweeper reads are beyond
# Piccolo's auto migrations. app/salla/tables.py mirrors these columns.
_STATEMENTS = [
    """
    CREATE TABLE salla_stores (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        merchant_id bigint NOT NULL UNIQUE,
        tenant uuid REFERENCES tenants (id) ON DELETE SET NULL ON UPDATE CASCADE,
        username varchar(100) NOT NULL DEFAULT '',
        name varchar(200) NOT NULL DEFAULT '',
        owner_email varchar(254) NOT NULL DEFAULT '',
        domain varchar(255) NOT NULL DEFAULT '',
        status varchar(30) NOT NULL DEFAULT 'installed'
            CHECK (status IN ('installed', 'connected', 'needs_reauthorization', 'uninstalled')),
        access_token_encrypted text NOT NULL DEFAULT '',
        refresh_token_encrypted text NOT NULL DEFAULT '',
        token_expires_at timestamptz,
        scopes text NOT NULL DEFAULT '',
        plan varchar(50) NOT NULL DEFAULT '',
        subscription_status varchar(30) NOT NULL DEFAULT '',
        subscription_plan varchar(100) NOT NULL DEFAULT '',
        store_type varchar(30) NOT NULL DEFAULT '',
        lifecycle_at timestamptz,
        installed_at timestamptz,
        authorized_at timestamptz,
        token_refreshed_at timestamptz,
        uninstalled_at timestamptz,
        last_error text NOT NULL DEFAULT '',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    "CREATE INDEX salla_stores_tenant ON salla_stores (tenant)",
    "CREATE INDEX salla_stores_token_expiry ON salla_stores (token_expires_at) WHERE status = 'connected'",
    """
    CREATE TABLE salla_webhooks (
        id bigserial PRIMARY KEY,
        body_hash varchar(64) NOT NULL UNIQUE,
        event varchar(100) NOT NULL,
        merchant_id bigint,
        body jsonb NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now(),
        status varchar(20) NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'ignored', 'failed')),
        attempts integer NOT NULL DEFAULT 0,
        processed_at timestamptz,
        last_error text NOT NULL DEFAULT ''
    )
    """,
    "CREATE INDEX salla_webhooks_event ON salla_webhooks (event)",
    "CREATE INDEX salla_webhooks_merchant ON salla_webhooks (merchant_id, received_at DESC)",
    "CREATE INDEX salla_webhooks_pending ON salla_webhooks (received_at) WHERE status = 'pending'",
    # operators list failed deliveries; the daily purge deletes applied ones older than 30 days
    "CREATE INDEX salla_webhooks_failed ON salla_webhooks (id DESC) WHERE status = 'failed'",
    "CREATE INDEX salla_webhooks_processed ON salla_webhooks (received_at) WHERE status IN ('done', 'ignored')",
    """
    CREATE TABLE salla_syncs (
        id bigserial PRIMARY KEY,
        store uuid NOT NULL REFERENCES salla_stores (id) ON DELETE CASCADE ON UPDATE CASCADE,
        resource varchar(20) NOT NULL CHECK (resource IN ('customers', 'products', 'orders')),
        status varchar(20) NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
        next_page integer NOT NULL DEFAULT 1,
        done integer NOT NULL DEFAULT 0,
        total integer,
        requests integer NOT NULL DEFAULT 0,
        throttled integer NOT NULL DEFAULT 0,
        started_at timestamptz,
        finished_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now(),
        last_error text NOT NULL DEFAULT '',
        UNIQUE (store, resource)
    )
    """,
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def create() -> None:
        for statement in _STATEMENTS:
            await _Raw.raw(statement)

    manager.add_raw(create)
    return manager
