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

from app.crm.fields import FieldDefinition, columns
from app.crm.metadata import ObjectDefinition
from app.lib.remembered import Remembered

__all__ = ["ROWS_REMEMBERED", "hashable", "row_reader"]

ROWS_REMEMBERED = 4096
"""About 80 pages of 50 rows: a few megabytes per process."""


RowReader = Callable[[Mapping[str, Any]], tuple[Any, ...]]


def row_reader(obj: ObjectDefinition, fields: Sequence[FieldDefinition]) -> RowReader:
    """What a row's key holds of a database row read for ``fields``: ``id`` and every column, as read. A JSON or
    array column read as a list or dict makes it unhashable: `hashable` turns such a key into one. Made once per
    process for each object definition (the owner) and fields."""
    names = tuple(field.name for field in fields)
    reader = _readers.get(obj, names)
    if reader is None:
        read = ["id", *(column.name for field in fields for column in columns(field))]
        reader = itemgetter(*read) if len(read) > 1 else lambda row: (row["id"],)
        _readers.put(obj, names, reader)
    return reader


def hashable(values: tuple[Any, ...]) -> tuple[Hashable, ...]:
    """A row's values with each list or dict (a JSON or array column) as canonical text."""
    return tuple(_hashable(value) for value in values)


_readers: Remembered[RowReader] = Remembered(1000)


def _hashable(value: Any) -> Hashable:
    return json.dumps(value, sort_keys=True, default=str) if isinstance(value, dict | list) else value
