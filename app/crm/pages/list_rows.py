"""The rows of a list page as HTML, remembered by everything they show.

A row's HTML is a function of its record's columns, the titles of the records it links to, the columns shown, the
language and the object's definition: formatting and escaping a dozen values costs more than reading them. So each
web process remembers the last `ROWS_REMEMBERED` rows it rendered, keyed by exactly those inputs. A record that
changed reads back with other values and is rendered anew; a changed catalogue is a new object, so a new key. The
database is still read on every request: this saves rendering, never a query.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Mapping, Sequence
from functools import lru_cache
from operator import itemgetter
from typing import Any, Generic, TypeVar

from app.crm.fields import FieldDefinition
from app.crm.metadata import ObjectDefinition

__all__ = ["ROWS_REMEMBERED", "RowMemory", "row_values"]

ROWS_REMEMBERED = 4096
"""About 80 pages of 50 rows: a few megabytes per process."""

RowT = TypeVar("RowT")


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


class RowMemory(Generic[RowT]):
    """Rendered rows by (the page's layout, the row's values, the titles it shows), oldest forgotten first."""

    def __init__(self, size: int = ROWS_REMEMBERED) -> None:
        self._size = size
        self._rows: dict[tuple[Hashable, ...], tuple[ObjectDefinition, RowT]] = {}

    @staticmethod
    def layout(
        obj: ObjectDefinition, columns: Sequence[FieldDefinition], base: str, language: str
    ) -> tuple[Hashable, ...]:
        """What every row of one page shares."""
        return (id(obj), tuple(field.name for field in columns), base, language)

    def get(self, obj: ObjectDefinition, key: tuple[Hashable, ...]) -> RowT | None:
        found = self._rows.get(key)
        # The object is kept with its rows, so while they are remembered no newer object can have its identity;
        # the check only guards against a key built for another object by mistake.
        return found[1] if found is not None and found[0] is obj else None

    def put(self, obj: ObjectDefinition, key: tuple[Hashable, ...], row: RowT) -> None:
        if len(self._rows) >= self._size:
            del self._rows[next(iter(self._rows))]
        self._rows[key] = (obj, row)

    def clear(self) -> None:
        self._rows.clear()

    def __len__(self) -> int:
        return len(self._rows)
