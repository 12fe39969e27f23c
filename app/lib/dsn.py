"""PostgreSQL connection URLs: the same server, another database."""

from __future__ import annotations

from urllib.parse import quote, urlsplit, urlunsplit

__all__ = ["database_name", "with_credentials", "with_database"]


def with_database(url: str, database: str) -> str:
    """``url`` pointing at ``database`` instead; works for TCP and unix-socket (``?host=/dir``) URLs."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + database))


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def with_credentials(url: str, user: str, password: str) -> str:
    """``url`` logging in as ``user`` with ``password`` (host, port, socket directory and options kept)."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}"
    return urlunsplit(parts._replace(netloc=netloc))
