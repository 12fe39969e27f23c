"""PostgreSQL connection URLs: the same server, another database."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

__all__ = ["database_name", "with_database"]


def with_database(url: str, database: str) -> str:
    """``url`` pointing at ``database`` instead; works for TCP and unix-socket (``?host=/dir``) URLs."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + database))


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")
