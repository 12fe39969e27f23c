"""asyncpg connections as Wosool's pools use them."""

from __future__ import annotations

import asyncpg

__all__ = ["StatelessConnection"]


class StatelessConnection(asyncpg.Connection):
    """A pooled connection that needs no reset query when it goes back to its pool.

    asyncpg's default reset runs ``SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`` on every
    release: one more round trip and four statements for PostgreSQL on every request. Wosool keeps no session state
    on pooled connections (``SET LOCAL`` and transaction-level advisory locks only, no cursors outside a transaction;
    the only LISTENs are the ones every tenant connection keeps for its whole life, app/tenancy/pools.py), so there
    is nothing to undo. asyncpg still rolls back a transaction left open."""

    def get_reset_query(self) -> str:
        return ""
