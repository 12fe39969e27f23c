"""The rows of a list page as HTML, remembered by everything they show.

A row's HTML is a function of its record's columns, the titles of the records it links to, the columns shown, the
language and the object's definition: formatting and escaping a dozen values costs more than reading them. So each
web process remembers the last `ROWS_REMEMBERED` rows it rendered (`app.lib.remembered`), keyed by exactly those
inputs. A record that changed reads back with other values and is rendered anew; a changed catalogue is a new
object, so a new key. The database is still read on every request: this saves rendering, never a query.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Mapping, Sequence
from functools import lru_cache
from operator import itemgetter
from typing import Any

from app.crm.fields import FieldDefinition
from app.crm.metadata import ObjectDefinition

__all__ = ["ROWS_REMEMBERED", "row_layout", "row_values"]

ROWS_REMEMBERED = 4096
"""About 80 pages of 50 rows: a few megabytes per process."""


def row_layout(
    obj: ObjectDefinition, columns: Sequence[FieldDefinition], base: str, language: str
) -> tuple[Hashable, ...]:
    """What every row of one page shares (the start of each row's key; ``obj`` is the key's owner)."""
    return (id(obj), tuple(field.name for field in columns), base, language)


def row_values(row: Mapping[str, Any], columns: tuple[str, ...]) -> tuple[Hashable, ...]:
    """The values of ``columns`` (two or more) in a database row, hashable (a JSON value as canonical text)."""
    values: tuple[Any, ...] = _getter(columns)(row)
    try:
        hash(values)
    except TypeError:
        values = tuple(_hashable(value) for value in values)
    return values


@lru_cache(maxsize=256)
def _getter(columns: tuple[str, ...]) -> itemgetter[Any]:
    return itemgetter(*columns)


def _hashable(value: Any) -> Hashable:
    return json.dumps(value, sort_keys=True, default=str) if isinstance(value, dict | list) else value
