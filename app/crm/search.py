"""Global search: the best hits of every object for what someone typed, in Arabic or English."""

from __future__ import annotations

from typing import Any

import asyncpg

from app.crm import repository
from app.crm.metadata import Catalogue
from app.crm.records import record_to_api
from app.crm.search_text import normalize

__all__ = ["MAX_QUERY_LENGTH", "SearchTooShort", "search_everything"]

MAX_QUERY_LENGTH = 200


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


async def search_everything(
    connection: asyncpg.Connection, catalogue: Catalogue, query: str, *, per_object: int = 5
) -> dict[str, list[dict[str, Any]]]:
    """``{object name: [records]}`` for every object with searchable fields and at least one hit."""
    term = _term(query)
    hits: dict[str, list[dict[str, Any]]] = {}
    for name, obj in catalogue.objects.items():
        if not any(field.searchable for field in obj.fields):
            continue
        rows = await repository.search_table(connection, obj, term, limit=per_object)
        if rows:
            hits[name] = [record_to_api(obj, row) for row in rows]
    return hits
