"""The rows of a list page as HTML, remembered by everything they show.

A row's HTML is a function of its record's columns, the titles of the records it links to, the columns shown, the
language and the object's definition (the owner of its key): formatting and escaping a dozen values costs more
than reading them. So each web process remembers the last `ROWS_REMEMBERED` rows it rendered
(`app.lib.remembered`), keyed by exactly those inputs. A record that changed reads back with other values and is
rendered anew; a changed catalogue is a new object, so a new owner. The database is still read on every request:
this saves rendering, never a query.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Mapping, Sequence
from operator import itemgetter
from typing import Any

from app.crm.fields import Column, FieldDefinition, columns

__all__ = ["ROWS_REMEMBERED", "row_reader"]

ROWS_REMEMBERED = 4096
"""About 80 pages of 50 rows: a few megabytes per process."""


def row_reader(fields: Sequence[FieldDefinition]) -> Callable[[Mapping[str, Any]], tuple[Hashable, ...]]:
    """What a row's key holds of a database row read for ``fields``: ``id`` and every column, hashable (a JSON or
    array column as canonical text). Made once per page: which columns need that is known from the fields."""
    read = [Column("id", "uuid"), *(column for field in fields for column in columns(field))]
    names = [column.name for column in read if column.sql_type not in _NESTED]
    nested = [column.name for column in read if column.sql_type in _NESTED]
    plain: Callable[[Mapping[str, Any]], Any] = itemgetter(*names)  # ``id`` at least: a tuple from two names on
    if not nested:
        return plain if len(names) > 1 else lambda row: (row["id"],)
    return lambda row: (plain(row), *(_hashable(row[name]) for name in nested))


_NESTED = frozenset({"jsonb", "json", "text[]"})
"""Column types asyncpg reads as lists or dicts (not hashable)."""


def _hashable(value: Any) -> Hashable:
    return json.dumps(value, sort_keys=True, default=str) if isinstance(value, dict | list) else value
