"""Global search: the best hits of every object for what someone typed, in Arabic or English.

Ranking: whole words matched (full text, ``simple`` configuration, so Arabic and Latin alike) by their full-text
rank, then words that start with the term, then the most recently changed. A broad term (a common first name
matches thousands of customers) is ranked among its `BROAD_CANDIDATES` most recently created matches only:
ranking every match means visiting every matching row, 40-90 ms for 10,000 matches among 100,000 customers,
against a few milliseconds for the newest few hundred.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from app.crm.fields import quote_ident
from app.crm.metadata import Catalogue, ObjectDefinition
from app.crm.records import record_to_api
from app.crm.search_text import normalize

__all__ = ["BROAD_CANDIDATES", "MAX_QUERY_LENGTH", "SearchTooShort", "search_everything", "search_table"]

MAX_QUERY_LENGTH = 200
BROAD_CANDIDATES = 200
"""A term with more matches than this in one object is ranked among the most recently created this many."""


class SearchTooShort(ValueError):
    pass


def _term(query: str) -> str:
    term = normalize(query[:MAX_QUERY_LENGTH])
    digits = "".join(ch for ch in term if ch.isdigit())
    # A phone number typed with spaces, dashes or a plus sign is searched as its digits.
    if digits and len(digits) >= 6 and not any(ch.isalpha() for ch in term):
        term = digits.lstrip("0") if digits.startswith("00") else digits
    if len(term) < 2:
        raise SearchTooShort("type at least 2 characters to search")
    return term


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _search_sql(table: str) -> str:
    """One statement, one round trip: a probe counts the matches up to one more than `BROAD_CANDIDATES` (the
    trigram index finds them; a broad term stops the scan early), then exactly one of two branches runs (a
    one-time filter gates the other): every match ranked, or the newest candidates ranked.

    The probe's LIMIT is a constant and the candidates' a parameter on purpose: asyncpg reuses prepared
    statements, so PostgreSQL may plan them once for any term (a generic plan), and these are the limits with
    which such a plan still probes through the trigram index and walks the newest rows by ``created_at``."""
    matching = f"FROM {table} WHERE deleted_at IS NULL AND search_text LIKE $1 ESCAPE '\\'"
    ranked = (
        "ORDER BY ts_rank_cd(search_vector, plainto_tsquery('simple', $5)) DESC, "
        "(search_text LIKE $2 ESCAPE '\\' OR search_text LIKE $3 ESCAPE '\\') DESC, updated_at DESC LIMIT $4"
    )
    probe = f"SELECT count(*) AS n FROM (SELECT 1 {matching} LIMIT {BROAD_CANDIDATES + 1}) AS probe"  # noqa: S608
    return (  # the table name is quoted, the values are bound
        f"WITH found AS ({probe}) "  # noqa: S608
        f"(SELECT * {matching} AND (SELECT n FROM found) <= $6 {ranked}) "
        "UNION ALL "
        f"(SELECT * FROM (SELECT * {matching} AND (SELECT n FROM found) > $6 "
        f"ORDER BY created_at DESC LIMIT $6) AS newest {ranked})"
    )


async def search_table(
    connection: asyncpg.Connection, obj: ObjectDefinition, term: str, *, limit: int
) -> Sequence[asyncpg.Record]:
    """Live records whose search text contains ``term`` (already normalised; partial words included), ranked."""
    escaped = _like_escape(term)
    rows: Sequence[asyncpg.Record] = await connection.fetch(
        _search_sql(quote_ident(obj.table_name)),
        f"%{escaped}%",
        f"{escaped}%",
        f"% {escaped}%",
        limit,
        term,
        BROAD_CANDIDATES,
    )
    return rows


async def search_everything(
    connection: asyncpg.Connection, catalogue: Catalogue, query: str, *, per_object: int = 5
) -> dict[str, list[dict[str, Any]]]:
    """``{object name: [records]}`` for every object with searchable fields and at least one hit."""
    term = _term(query)
    hits: dict[str, list[dict[str, Any]]] = {}
    for name, obj in catalogue.objects.items():
        if not any(field.searchable for field in obj.fields):
            continue
        rows = await search_table(connection, obj, term, limit=per_object)
        if rows:
            hits[name] = [record_to_api(obj, row) for row in rows]
    return hits
