"""Global search: the best hits of every object for what someone typed, in Arabic or English.

Ranking: whole words matched (full text, ``simple`` configuration, so Arabic and Latin alike) by their full-text
rank, then words that start with the term, then the most recently changed. A broad term (a common first name
matches thousands of customers) is ranked among its most recently created matches only, `CANDIDATES_PER_HIT` for
every hit shown (50 for the palette's five an object, 200 for the search page's twenty): ranking every match means
visiting every matching row, 40-90 ms for 10,000 matches among 100,000 customers, against a millisecond or less
for the newest few hundred. Someone looking for one of many Saras types on; the palette answers each keystroke.

`search_everything` asks every object in one statement: each object's best hits, with what they were ranked by and
the columns the caller shows (one row value a hit, read by id once the hits are chosen). An object whose table has
never held a row (a shop that keeps no deals, say) is asked only its table's size on disk in that statement, which
costs PostgreSQL next to nothing, where the ranking's statement for an empty table cost it as much as a short query
of its own; once the size shows rows, the object is searched as the others, at once in the same call and from then
on (`_filled`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, NamedTuple

import asyncpg

from app.crm.fields import FieldDefinition, quote_ident
from app.crm.metadata import Catalogue, ObjectDefinition
from app.crm.query import escape_like
from app.crm.records import api_columns, api_shape
from app.crm.search_text import normalize
from app.lib.remembered import Remembered

__all__ = [
    "CANDIDATES_PER_HIT",
    "MAX_HITS_PER_OBJECT",
    "MAX_QUERY_LENGTH",
    "SAMPLE_ROWS",
    "WALKED_ROWS_PER_CANDIDATE",
    "SearchTooShort",
    "search_everything",
]

MAX_QUERY_LENGTH = 200
MAX_HITS_PER_OBJECT = 20
CANDIDATES_PER_HIT = 10
"""A term with more matches in one object than this many for each hit shown is ranked among the most recently
created this many."""
WALKED_ROWS_PER_CANDIDATE = 20
"""How many of the newest rows are walked for each candidate of a broad term before the trigram index is asked
instead: a term matching one row in twenty or more is served by the walk alone."""
SAMPLE_ROWS = 200
"""How many of the newest rows tell whether a term is broad in a table (one match in twenty or more)."""


_filled: Remembered[bool] = Remembered(10_000)
"""Objects (by their definition, so a new catalogue starts afresh) whose table this process has seen hold rows.
A table with a row in it is never empty on disk: PostgreSQL extends the file before the row is written, and never
shrinks it to nothing while a row lives. So an empty file is an empty table, for any row committed before the
search's statement began."""


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


def _candidates_sql(table: str, candidates: int) -> str:
    """The newest ``candidates`` matches (every match of a narrower term) in one statement, by whichever way is
    cheap for this term in this table, chosen as it runs:

    - the newest `SAMPLE_ROWS` rows are read first; if at least one in twenty matches, the term is broad here, and
      the newest ``candidates`` x `WALKED_ROWS_PER_CANDIDATE` rows are walked by ``created_at`` until ``candidates``
      match (the 200 newest customers with a name one in twelve has are found within 2,400 rows, the 50 newest
      within 600; the trigram index would first gather all 8,000 of its matches);
    - otherwise, or if the walk found fewer, every match is taken through the trigram index (quick for a term this
      table barely has: a customer's name among orders) and the newest kept.

    Either way the same candidates: the newest matches of the whole table. The limits are constants and the
    fallback is fenced (``OFFSET 0``) on purpose: asyncpg reuses prepared statements, so PostgreSQL may plan them
    once for any term (a generic plan), and these keep such a plan walking ``created_at`` for the newest rows and
    the trigram index for the rest."""
    live = f"FROM {table} WHERE deleted_at IS NULL"
    columns = "id, created_at, updated_at, search_text, search_vector"
    walked = candidates * WALKED_ROWS_PER_CANDIDATE
    sample = (
        f"SELECT count(*) AS matching FROM (SELECT search_text {live} "  # noqa: S608
        f"ORDER BY created_at DESC, id LIMIT {SAMPLE_ROWS}) AS newest_rows WHERE search_text LIKE $1"
    )
    recent = (
        f"SELECT * FROM (SELECT {columns} {live} "  # noqa: S608
        f"AND (SELECT matching FROM sample) >= {SAMPLE_ROWS // WALKED_ROWS_PER_CANDIDATE} "
        f"ORDER BY created_at DESC, id LIMIT {walked}) AS recent_rows "
        f"WHERE search_text LIKE $1 LIMIT {candidates}"
    )
    every_match = (
        f"SELECT {columns} {live} AND search_text LIKE $1 "  # noqa: S608
        f"AND (SELECT count(*) FROM recent) < {candidates} OFFSET 0"
    )
    return (  # the table name is quoted, the values are bound
        f"WITH sample AS MATERIALIZED ({sample}), recent AS MATERIALIZED ({recent}) "  # noqa: S608
        f"SELECT * FROM recent WHERE (SELECT count(*) FROM recent) = {candidates} "
        f"UNION ALL (SELECT * FROM ({every_match}) AS every_match "
        f"ORDER BY created_at DESC, id LIMIT {candidates})"
    )


class _Asked(NamedTuple):
    part: int
    """The object's place among those searched."""
    obj: ObjectDefinition
    filled: bool
    """Its table has held rows (it is searched), or may never have (only its size on disk is asked)."""
    columns: tuple[str, ...]
    """What each hit is read with (`records.api_columns`)."""
    fields: tuple[FieldDefinition, ...] | None
    """The fields a hit is shown with (None: all of them)."""


async def search_everything(
    connection: asyncpg.Connection,
    catalogue: Catalogue,
    query: str,
    *,
    per_object: int = 5,
    fields_of: Callable[[ObjectDefinition], Sequence[FieldDefinition]] | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """``{object name: [records]}`` for every object with searchable fields and at least one hit: whole records in
    API shape, or ``id`` and the fields ``fields_of`` gives for the object."""
    term = _term(query)
    plan = _plan(catalogue, per_object, fields_of)
    if not plan.asked:
        return {}
    parameters = _parameters(term, per_object)
    rows = await _ask(connection, plan, parameters)
    newly_filled = [plan.asked[row["part"]]._replace(filled=True) for row in rows if row["size_on_disk"]]
    if newly_filled:  # objects whose tables hold rows since this process last looked: searched now
        for item in newly_filled:
            _filled.put(item.obj, "rows", True)
        rows.extend(await _ask(connection, _Plan(tuple(newly_filled), plan.candidates), parameters))
    by_part: dict[int, list[asyncpg.Record]] = {}
    for row in rows:
        if row["id"] is not None:
            by_part.setdefault(row["part"], []).append(row)
    found: dict[str, list[dict[str, Any]]] = {}
    for part, hits in sorted(by_part.items()):
        hits.sort(key=lambda hit: (hit["rank"], hit["starts"], hit["updated_at"]), reverse=True)
        item = plan.asked[part]
        found[item.obj.name] = [
            api_shape(item.obj, dict(zip(item.columns, hit["shown"], strict=True)), item.fields) for hit in hits
        ]
    return found


@dataclass(frozen=True)
class _Plan:
    """How one search of a catalogue asks: every object searched and its statement (`_hits_sql`)."""

    asked: tuple[_Asked, ...]
    candidates: int

    @cached_property
    def sql(self) -> str:
        return _hits_sql(self.asked, self.candidates)


_plans: Remembered[_Plan] = Remembered(1000)


def _plan(
    catalogue: Catalogue,
    per_object: int,
    fields_of: Callable[[ObjectDefinition], Sequence[FieldDefinition]] | None,
) -> _Plan:
    """Made once per catalogue (the owner), hits shown and fields, for the objects known to be filled then: the
    objects, their columns and the statement are the same for every term."""
    searched = _searched.get(catalogue, "objects")
    if searched is None:
        searched = tuple(obj for obj in catalogue.objects.values() if any(field.searchable for field in obj.fields))
        _searched.put(catalogue, "objects", searched)
    filled = tuple(_filled.get(obj, "rows") is not None for obj in searched)
    key = (per_object, fields_of, filled)
    plan = _plans.get(catalogue, key)
    if plan is None:
        asked = []
        for part, obj in enumerate(searched):
            fields = None if fields_of is None else tuple(fields_of(obj))
            asked.append(_Asked(part, obj, filled[part], tuple(api_columns(obj, fields)), fields))
        plan = _Plan(tuple(asked), CANDIDATES_PER_HIT * min(per_object, MAX_HITS_PER_OBJECT))
        _plans.put(catalogue, key, plan)
    return plan


_searched: Remembered[tuple[ObjectDefinition, ...]] = Remembered(1000)
"""The objects of a catalogue with searchable fields."""


async def _ask(connection: asyncpg.Connection, plan: _Plan, parameters: tuple[Any, ...]) -> list[asyncpg.Record]:
    searching = any(item.filled for item in plan.asked)
    return list(await connection.fetch(plan.sql, *(parameters if searching else ())))


def _hits_sql(asked: Sequence[_Asked], candidates: int) -> str:
    """For each object asked: a filled object's best hits, with the keys they were ranked by (a UNION does not keep
    the order of each object's answer) and their ``columns`` as one row value (``shown``); or one row with the size on
    disk of the table of an object not known to be filled (``id`` NULL)."""
    return " UNION ALL ".join(_hits_of(item, candidates) if item.filled else _size_of(item) for item in asked)


def _hits_of(item: _Asked, candidates: int) -> str:
    table = quote_ident(item.obj.table_name)
    rank = "ts_rank_cd(hits.search_vector, (SELECT plainto_tsquery('simple', $5)))"  # the query parsed once
    starts = "(hits.search_text LIKE $2 OR hits.search_text LIKE $3)"
    shown = ", ".join(f"record.{quote_ident(column)}" for column in item.columns)
    best = (
        f"SELECT {item.part} AS part, hits.id, {rank} AS rank, {starts} AS starts, hits.updated_at, "  # noqa: S608 (names quoted, values bound)
        f"NULL::bigint AS size_on_disk FROM ({_candidates_sql(table, candidates)}) AS hits "
        "ORDER BY rank DESC, starts DESC, hits.updated_at DESC LIMIT $4"
    )
    return (
        f"(SELECT best.*, (SELECT ROW({shown}) FROM {table} AS record WHERE record.id = best.id) AS shown "  # noqa: S608
        f"FROM ({best}) AS best)"
    )


def _size_of(item: _Asked) -> str:
    return (
        f"(SELECT {item.part} AS part, NULL::uuid AS id, NULL::real AS rank, NULL::boolean AS starts, "
        "NULL::timestamptz AS updated_at, "
        f"pg_relation_size('{quote_ident(item.obj.table_name)}'::regclass) AS size_on_disk, NULL::record AS shown)"
    )


def _parameters(term: str, limit: int) -> tuple[Any, ...]:
    escaped = escape_like(term)
    return f"%{escaped}%", f"{escaped}%", f"% {escaped}%", limit, term
