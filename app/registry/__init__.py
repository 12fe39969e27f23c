"""The registry database: the small, hot PostgreSQL database that knows every tenant.

Piccolo owns its tables (each domain declares its own in ``tables.py``) and its migrations
(``migrations/registry/``). Tenant databases never go through Piccolo; they use asyncpg directly.
"""
