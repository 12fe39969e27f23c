"""The rows of a list page as HTML, remembered by everything they show.

A row's HTML is a function of its record's columns, the titles of the records it links to, the columns shown, the
language and the object's definition (the owner of its key): formatting and escaping a dozen values costs more
than reading them. So each web process remembers the last `ROWS_REMEMBERED` rows it rendered
(`app.lib.remembered`), keyed by exactly those inputs. A record that changed reads back with other values and is
rendered anew; a changed catalogue is a new object, so a new owner. The database is still read on every request:
this saves rendering, never a query.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any

import msgspec

from app.crm.fields import Column, FieldDefinition, columns
from app.crm.metadata import ObjectDefinition
from app.lib.remembered import Remembered

__all__ = ["ROWS_REMEMBERED", "row_reader"]

ROWS_REMEMBERED = 4096
"""About 80 pages of 50 rows: a few megabytes per process."""


RowReader = Callable[[Mapping[str, Any]], tuple[Any, ...]]


def row_reader(obj: ObjectDefinition, fields: Sequence[FieldDefinition]) -> RowReader:
    """What a row's key holds of a database row read for ``fields``: ``id`` and every column as read, the columns
    that hold lists or dicts (JSON, arrays: unhashable as read) as one canonical JSON text. Made once per process
    for each object definition (the owner) and fields."""
    names = tuple(field.name for field in fields)
    reader = _readers.get(obj, names)
    if reader is None:
        read = [Column("id", "uuid"), *(column for field in fields for column in columns(field))]
        plain = _getter([column.name for column in read if not _holds_lists(column)])
        listed = [column.name for column in read if _holds_lists(column)]
        reader = plain if not listed else _with_lists(plain, _getter(listed))
        _readers.put(obj, names, reader)
    return reader


_readers: Remembered[RowReader] = Remembered(1000)


def _holds_lists(column: Column) -> bool:
    return column.sql_type == "jsonb" or column.sql_type.endswith("[]")


def _getter(names: list[str]) -> RowReader:
    if len(names) == 1:
        name = names[0]
        return lambda row: (row[name],)
    return itemgetter(*names)


def _with_lists(plain: RowReader, listed: RowReader) -> RowReader:
    return lambda row: (*plain(row), msgspec.json.encode(listed(row), order="sorted"))
