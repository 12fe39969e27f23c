"""Global search: the best hits of every object for what someone typed, in Arabic or English.

Ranking: whole words matched (full text, ``simple`` configuration, so Arabic and Latin alike) by their full-text
rank, then words that start with the term, then the most recently changed. A broad term (a common first name
matches thousands of customers) is ranked among its `BROAD_CANDIDATES` most recently created matches only:
ranking every match means visiting every matching row, 40-90 ms for 10,000 matches among 100,000 customers,
against a few milliseconds for the newest few hundred.

`search_everything` asks every object in one statement (the ids of each object's best hits, with what they were
ranked by), then reads the hits of the objects that have some: two or three round trips instead of one per object.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from app.crm.fields import quote_ident
from app.crm.metadata import Catalogue, ObjectDefinition
from app.crm.query import escape_like
from app.crm.records import records_by_ids
from app.crm.search_text import normalize

__all__ = ["BROAD_CANDIDATES", "MAX_QUERY_LENGTH", "SearchTooShort", "search_everything"]

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


def _search_sql(table: str) -> str:
    """One statement, one round trip: a probe counts the matches up to one more than `BROAD_CANDIDATES` (the
    trigram index finds them; a broad term stops the scan early), then exactly one of two branches runs (a
    one-time filter gates the other): every match ranked, or the newest candidates ranked.

    The probe's LIMIT is a constant and the candidates' a parameter on purpose: asyncpg reuses prepared
    statements, so PostgreSQL may plan them once for any term (a generic plan), and these are the limits with
    which such a plan still probes through the trigram index and walks the newest rows by ``created_at``."""
    matching = f"FROM {table} WHERE deleted_at IS NULL AND search_text LIKE $1"
    ranked = (
        "ORDER BY ts_rank_cd(search_vector, plainto_tsquery('simple', $5)) DESC, "
        "(search_text LIKE $2 OR search_text LIKE $3) DESC, updated_at DESC LIMIT $4"
    )
    probe = f"SELECT count(*) AS n FROM (SELECT 1 {matching} LIMIT {BROAD_CANDIDATES + 1}) AS probe"  # noqa: S608
    return (  # the table name is quoted, the values are bound
        f"WITH found AS ({probe}) "  # noqa: S608
        f"(SELECT * {matching} AND (SELECT n FROM found) <= $6 {ranked}) "
        "UNION ALL "
        f"(SELECT * FROM (SELECT * {matching} AND (SELECT n FROM found) > $6 "
        f"ORDER BY created_at DESC LIMIT $6) AS newest {ranked})"
    )


async def search_everything(
    connection: asyncpg.Connection, catalogue: Catalogue, query: str, *, per_object: int = 5
) -> dict[str, list[dict[str, Any]]]:
    """``{object name: [records]}`` for every object with searchable fields and at least one hit."""
    term = _term(query)
    searched = [obj for obj in catalogue.objects.values() if any(field.searchable for field in obj.fields)]
    if not searched:
        return {}
    by_part: dict[int, list[asyncpg.Record]] = {}
    for hit in await connection.fetch(_hits_sql(searched), *_parameters(term, per_object)):
        by_part.setdefault(hit["part"], []).append(hit)
    found: dict[str, list[dict[str, Any]]] = {}
    for part, hits in sorted(by_part.items()):
        hits.sort(key=lambda hit: (hit["rank"], hit["starts"], hit["updated_at"]), reverse=True)
        obj = searched[part]
        records = {record["id"]: record for record in await records_by_ids(connection, obj, [h["id"] for h in hits])}
        kept = [records[str(hit["id"])] for hit in hits if str(hit["id"]) in records]
        if kept:
            found[obj.name] = kept
    return found


def _hits_sql(searched: Sequence[ObjectDefinition]) -> str:
    """The ids of every object's best hits (``part``: the object's place in ``searched``) and the keys they were
    ranked by: a UNION does not keep the order of each object's answer."""
    starts = "(hits.search_text LIKE $2 OR hits.search_text LIKE $3)"
    return " UNION ALL ".join(
        f"(SELECT {part} AS part, hits.id, ts_rank_cd(hits.search_vector, plainto_tsquery('simple', $5)) AS rank, "  # noqa: S608 (names quoted, values bound)
        f"{starts} AS starts, hits.updated_at "
        f"FROM ({_search_sql(quote_ident(obj.table_name))}) AS hits)"
        for part, obj in enumerate(searched)
    )


def _parameters(term: str, limit: int) -> tuple[Any, ...]:
    escaped = escape_like(term)
    return f"%{escaped}%", f"{escaped}%", f"% {escaped}%", limit, term, BROAD_CANDIDATES
