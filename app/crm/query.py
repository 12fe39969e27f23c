"""One query layer for every CRM list (dashboard, REST API, widget): filters, multi-column sorts, keyset cursors.

Callers pass a catalogue of queryable fields (API name -> SQL column and `Kind`, from the metadata layer) and a table.
Filters arrive in one of two syntaxes, parsed into one AST (`And`, `Or`, `Not`, `Condition`):

- JSON: ``{"and": [...]}``, ``{"or": [...]}``, ``{"not": {...}}``, ``{"field": "city", "op": "eq", "value": "x"}``;
- compact, like Twenty's ``filter=`` parameter:
  ``and(city[eq]:"Riyadh",or(total[gte]:100,status[in]:["paid","shipped"]),not(email[is_null]:true))``;
  strings are double-quoted with JSON escapes, a top-level comma-separated list means ``and``.

Identifiers only ever come from the catalogue (validated, and quoted anyway) and every value is a bound parameter
with an explicit cast, so no input string becomes SQL text.

NULL semantics. Every condition is true or false, never unknown, so ``not`` is the exact complement:
- ``eq``, ``gt``, ``gte``, ``lt``, ``lte``, ``in``, ``contains``, ``starts_with`` never match NULL;
- ``neq`` matches NULL (NULL is distinct from any value: IS DISTINCT FROM);
- ``is_null`` true / false: IS NULL / IS NOT NULL;
- ``not(x)`` matches every row x does not, NULLs included (compiled as ``(x) IS NOT TRUE``);
- ``contains`` on a text array: some element equals the value exactly; NULL arrays and NULL elements never match.
Text ``eq``/``neq``/``in`` and ordering are case-sensitive and follow the column's collation; ``contains`` and
``starts_with`` are case-insensitive (ILIKE: the collation's lower()) and match %, _ and \\ literally.

Sorting: ascending and nulls last unless asked; ``id`` ascending is appended as the final tiebreaker, so the order
is total and keyset cursors (the last row's sort values, versioned JSON in url-safe base64) never skip or repeat.
Soft-deleted rows (``deleted_at`` set) are left out unless ``include_deleted``.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, NoReturn, TypeAlias, TypeVar
from uuid import UUID

import asyncpg

__all__ = [
    "CURSOR_VERSION",
    "DEFAULT_LIMIT",
    "MAX_CONDITIONS",
    "MAX_DEPTH",
    "MAX_IN_VALUES",
    "MAX_LIMIT",
    "MAX_SORTS",
    "MAX_STRING_LENGTH",
    "And",
    "Catalogue",
    "Condition",
    "Direction",
    "Filter",
    "Kind",
    "Not",
    "Nulls",
    "Op",
    "Or",
    "Page",
    "PageQuery",
    "QueryError",
    "QueryField",
    "Sort",
    "SortKey",
    "build_count_query",
    "build_page_query",
    "check_limit",
    "compile_filter",
    "decode_cursor",
    "encode_cursor",
    "escape_like",
    "fetch_built_page",
    "fetch_page",
    "make_catalogue",
    "operators_for",
    "parse_filter",
    "parse_filter_json",
    "parse_limit",
    "parse_sorts",
    "resolve_sorts",
    "validate_filter",
]

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_DEPTH = 8
"""Nesting of and/or/not groups."""
MAX_CONDITIONS = 50
MAX_IN_VALUES = 200
MAX_STRING_LENGTH = 1000
MAX_FILTER_LENGTH = 20_000
MAX_SORTS = 6
MAX_CURSOR_LENGTH = 16_384
CURSOR_VERSION = 1
ID_COLUMN = "id"
DELETED_COLUMN = "deleted_at"

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_NUMBER_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INTEGER_TEXT = re.compile(r"[+-]?[0-9]{1,19}")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")
_BIGINT = (-(2**63), 2**63 - 1)


class QueryError(ValueError):
    """Bad filter, sort, limit or cursor; ``reason`` is for humans (the HTTP layer answers 400 with it)."""

    def __init__(self, reason: str, *, position: int | None = None) -> None:
        self.reason = reason
        self.position = position
        super().__init__(reason if position is None else f"at position {position}: {reason}")


class Kind(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    UUID = "uuid"
    TEXT_ARRAY = "text_array"
    JSON = "json"


class Op(StrEnum):
    EQ = "eq"
    NEQ = "neq"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"
    IN = "in"
    IS_NULL = "is_null"
    CONTAINS = "contains"
    STARTS_WITH = "starts_with"


class Direction(StrEnum):
    ASC = "asc"
    DESC = "desc"


class Nulls(StrEnum):
    FIRST = "first"
    LAST = "last"


_ORDERED_OPS = frozenset({Op.EQ, Op.NEQ, Op.GT, Op.GTE, Op.LT, Op.LTE, Op.IN, Op.IS_NULL})
_EQUALITY_OPS = frozenset({Op.EQ, Op.NEQ, Op.IN, Op.IS_NULL})
_OPS_BY_KIND: dict[Kind, frozenset[Op]] = {
    Kind.TEXT: _ORDERED_OPS | {Op.CONTAINS, Op.STARTS_WITH},
    Kind.NUMBER: _ORDERED_OPS,
    Kind.INTEGER: _ORDERED_OPS,
    Kind.DATE: _ORDERED_OPS,
    Kind.DATETIME: _ORDERED_OPS,
    Kind.BOOLEAN: _EQUALITY_OPS,
    Kind.UUID: _EQUALITY_OPS,
    Kind.TEXT_ARRAY: frozenset({Op.CONTAINS, Op.IS_NULL}),
    Kind.JSON: frozenset({Op.IS_NULL}),
}
_SORTABLE = frozenset({Kind.TEXT, Kind.NUMBER, Kind.INTEGER, Kind.BOOLEAN, Kind.DATE, Kind.DATETIME, Kind.UUID})
# The cast of a bound value; for a text array, the type of one element.
_SQL_TYPES = {
    Kind.TEXT: "text",
    Kind.NUMBER: "numeric",
    Kind.INTEGER: "bigint",
    Kind.BOOLEAN: "boolean",
    Kind.DATE: "date",
    Kind.DATETIME: "timestamptz",
    Kind.UUID: "uuid",
    Kind.TEXT_ARRAY: "text",
}
_COMPARISONS = {Op.EQ: "=", Op.NEQ: "IS DISTINCT FROM", Op.GT: ">", Op.GTE: ">=", Op.LT: "<", Op.LTE: "<="}


def operators_for(kind: Kind) -> frozenset[Op]:
    """The operators a field of this kind accepts (for docs and filter builders)."""
    return _OPS_BY_KIND[kind]


@dataclass(frozen=True)
class QueryField:
    """A field a query may name: its API name, its SQL column and its kind."""

    name: str
    column: str
    kind: Kind

    def __post_init__(self) -> None:
        for what, value in (("field name", self.name), ("column name", self.column)):
            if not _IDENTIFIER.fullmatch(value):
                raise ValueError(f"{value!r} is not a valid {what}")
        object.__setattr__(self, "kind", Kind(self.kind))


Catalogue: TypeAlias = Mapping[str, QueryField]
_ID_FIELD = QueryField(ID_COLUMN, ID_COLUMN, Kind.UUID)


def make_catalogue(fields: Iterable[QueryField]) -> dict[str, QueryField]:
    catalogue: dict[str, QueryField] = {}
    for query_field in fields:
        if query_field.name in catalogue:
            raise ValueError(f"field {query_field.name!r} is listed twice")
        catalogue[query_field.name] = query_field
    return catalogue


# --- the filter AST ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Condition:
    field: str
    op: Op
    value: Any = None


@dataclass(frozen=True)
class And:
    items: tuple[Filter, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Filter, ...]


@dataclass(frozen=True)
class Not:
    item: Filter


Filter: TypeAlias = And | Or | Not | Condition


@dataclass(frozen=True)
class Sort:
    field: str
    direction: Direction = Direction.ASC
    nulls: Nulls = Nulls.LAST


@dataclass(frozen=True)
class SortKey:
    """A sort resolved against the catalogue."""

    field: QueryField
    direction: Direction
    nulls: Nulls

    @property
    def token(self) -> str:
        return f"{self.field.name}:{self.direction}:nulls_{self.nulls}"


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


_E = TypeVar("_E", bound=StrEnum)


def _choice(enum: type[_E], value: object, what: str) -> _E:
    if isinstance(value, str) and value in enum.__members__.values():
        return enum(value)
    raise QueryError(f"unknown {what} {_show(value)} (expected one of {', '.join(enum)})")


def _op(value: object) -> Op:
    return _choice(Op, value, "operator")


def _lookup(catalogue: Catalogue, name: object) -> QueryField:
    if isinstance(name, str) and name in catalogue:
        return catalogue[name]
    raise QueryError(f"unknown field {_show(name)}")


# --- the compact syntax ---------------------------------------------------------------------------------------


def parse_filter(text: str) -> Filter:
    """Parse the compact syntax; a `QueryError` carries the position and the reason."""
    if not isinstance(text, str):
        raise QueryError("a filter must be a string")
    if len(text) > MAX_FILTER_LENGTH:
        raise QueryError(f"a filter is at most {MAX_FILTER_LENGTH} characters long")
    if not text.strip():
        raise QueryError("the filter is empty")
    parsed = _CompactParser(text).parse()
    _check_shape(parsed, 0, _Budget())
    return parsed


class _CompactParser:
    """Recursive descent over: expr := ("and"|"or"|"not") "(" expr ("," expr)* ")" | field "[" op "]" ":" value."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.conditions = 0

    def parse(self) -> Filter:
        items = self._expressions(1)
        self._skip()
        if self.pos < len(self.text):
            self._fail(f"expected ',' or the end of the filter but found {self._found()}")
        return items[0] if len(items) == 1 else And(tuple(items))

    def _expressions(self, depth: int) -> list[Filter]:
        items = [self._expression(depth)]
        while self._take(","):
            items.append(self._expression(depth))
        return items

    def _expression(self, depth: int) -> Filter:
        self._skip()
        start = self.pos
        name = self._word("a field name, and(, or( or not(")
        self._skip()
        if name in ("and", "or", "not") and self._peek() == "(":
            return self._group(name, depth, start)
        return self._condition(name, start)

    def _group(self, name: str, depth: int, start: int) -> Filter:
        if depth > MAX_DEPTH:
            self._fail(f"filters nest at most {MAX_DEPTH} levels deep", start)
        self.pos += 1  # "("
        items = self._expressions(depth + 1)
        self._expect(")", "',' or ')'")
        if name == "not":
            if len(items) != 1:
                self._fail("not( takes exactly one filter", start)
            return Not(items[0])
        return And(tuple(items)) if name == "and" else Or(tuple(items))

    def _condition(self, name: str, start: int) -> Condition:
        self.conditions += 1
        if self.conditions > MAX_CONDITIONS:
            self._fail(f"a filter has at most {MAX_CONDITIONS} conditions", start)
        self._expect("[", "'[' and an operator after the field name")
        self._skip()
        op_start = self.pos
        op_name = self._word("an operator")
        try:
            op = _op(op_name)
        except QueryError as error:
            self._fail(error.reason, op_start)
        self._expect("]", "']' after the operator")
        self._expect(":", "':' and a value after the operator")
        return Condition(name, op, self._value(allow_list=True))

    def _value(self, *, allow_list: bool) -> object:
        self._skip()
        char = self._peek()
        if char == '"':
            return self._string()
        if char == "[":
            if not allow_list:
                self._fail("lists cannot be nested")
            return self._list()
        number = _NUMBER.match(self.text, self.pos)
        if number:
            return self._number(number.group())
        word = _WORD.match(self.text, self.pos)
        if word and word.group() in ("true", "false", "null"):
            self.pos = word.end()
            return {"true": True, "false": False, "null": None}[word.group()]
        self._fail(f'expected a value (a "quoted string", a number, true, false or a [list]) but found {self._found()}')

    def _number(self, token: str) -> int | Decimal:
        if len(token) > 100:
            self._fail("number too long")
        self.pos += len(token)
        return Decimal(token) if any(c in token for c in ".eE") else int(token)

    def _string(self) -> str:
        start, end = self.pos, self.pos + 1
        while end < len(self.text) and self.text[end] != '"':
            end += 2 if self.text[end] == "\\" else 1
        if end >= len(self.text):
            self._fail("unterminated string", start)
        try:
            value = json.loads(self.text[start : end + 1])
        except ValueError:
            self._fail("invalid escape or control character in string", start)
        if len(value) > MAX_STRING_LENGTH:
            self._fail(f"strings are at most {MAX_STRING_LENGTH} characters long", start)
        self.pos = end + 1
        return str(value)

    def _list(self) -> tuple[object, ...]:
        start = self.pos
        self.pos += 1  # "["
        if self._take("]"):
            return ()
        items = [self._value(allow_list=False)]
        while self._take(","):
            items.append(self._value(allow_list=False))
            if len(items) > MAX_IN_VALUES:
                self._fail(f"a list has at most {MAX_IN_VALUES} values", start)
        self._expect("]", "',' or ']'")
        return tuple(items)

    def _word(self, expected: str) -> str:
        match = _WORD.match(self.text, self.pos)
        if not match:
            self._fail(f"expected {expected} but found {self._found()}")
        self.pos = match.end()
        return match.group()

    def _skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t\r\n":
            self.pos += 1

    def _peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def _take(self, char: str) -> bool:
        self._skip()
        if self._peek() == char:
            self.pos += 1
            return True
        return False

    def _expect(self, char: str, expected: str) -> None:
        if not self._take(char):
            self._fail(f"expected {expected} but found {self._found()}")

    def _found(self) -> str:
        return "the end of the filter" if self.pos >= len(self.text) else repr(self.text[self.pos])

    def _fail(self, reason: str, position: int | None = None) -> NoReturn:
        raise QueryError(reason, position=self.pos if position is None else position)


# --- the JSON syntax --------------------------------------------------------------------------------------------


def parse_filter_json(data: str | bytes | Mapping[str, Any]) -> Filter:
    """Parse the JSON syntax, given as text or as already decoded JSON; errors name the path ($.and[1].not)."""
    if isinstance(data, str | bytes):
        if len(data) > MAX_FILTER_LENGTH:
            raise QueryError(f"a filter is at most {MAX_FILTER_LENGTH} characters long")
        try:
            data = json.loads(data, parse_float=Decimal)
        except (ValueError, RecursionError) as error:
            raise QueryError(f"the filter is not valid JSON: {error}") from None
    return _from_json(data, "$", 0, _Budget())


def _from_json(node: object, path: str, depth: int, budget: _Budget) -> Filter:
    if not isinstance(node, Mapping):
        raise QueryError(f"{path}: expected an object")
    keys = set(node)
    if keys in ({"and"}, {"or"}, {"not"}):
        if depth + 1 > MAX_DEPTH:
            raise QueryError(f"{path}: filters nest at most {MAX_DEPTH} levels deep")
        (key,) = keys
        if key == "not":
            return Not(_from_json(node["not"], f"{path}.not", depth + 1, budget))
        items = node[key]
        if not isinstance(items, list) or not items:
            raise QueryError(f"{path}.{key}: expected a non-empty list of filters")
        children = tuple(_from_json(item, f"{path}.{key}[{i}]", depth + 1, budget) for i, item in enumerate(items))
        return And(children) if key == "and" else Or(children)
    if {"field", "op"} <= keys <= {"field", "op", "value"}:
        budget.take(path)
        try:
            op = _op(node["op"])
        except QueryError as error:
            raise QueryError(f"{path}: {error.reason}") from None
        value = node.get("value")
        return Condition(node["field"], op, tuple(value) if isinstance(value, list) else value)
    raise QueryError(f"{path}: expected {_JSON_SHAPES}")


_JSON_SHAPES = '{"and": [...]}, {"or": [...]}, {"not": {...}} or {"field": ..., "op": ..., "value": ...}'


class _Budget:
    """Counts conditions across a whole filter."""

    def __init__(self) -> None:
        self.conditions = 0

    def take(self, where: str = "") -> None:
        self.conditions += 1
        if self.conditions > MAX_CONDITIONS:
            prefix = f"{where}: " if where else ""
            raise QueryError(f"{prefix}a filter has at most {MAX_CONDITIONS} conditions")


def _check_shape(node: Filter, depth: int, budget: _Budget) -> None:
    if isinstance(node, Condition):
        budget.take()
        return
    if depth + 1 > MAX_DEPTH:
        raise QueryError(f"filters nest at most {MAX_DEPTH} levels deep")
    children = (node.item,) if isinstance(node, Not) else node.items
    for child in children:
        _check_shape(child, depth + 1, budget)


# --- validation against the catalogue ---------------------------------------------------------------------------


def validate_filter(node: Filter, catalogue: Catalogue) -> Filter:
    """The same filter with every field checked against the catalogue and every value coerced to its kind."""
    return _validate(node, catalogue, 0, _Budget())


def _validate(node: object, catalogue: Catalogue, depth: int, budget: _Budget) -> Filter:
    if isinstance(node, Condition):
        budget.take()
        return _validate_condition(node, catalogue)
    if not isinstance(node, And | Or | Not):
        raise QueryError(f"not a filter: {_show(node)}")
    if depth + 1 > MAX_DEPTH:
        raise QueryError(f"filters nest at most {MAX_DEPTH} levels deep")
    if isinstance(node, Not):
        return Not(_validate(node.item, catalogue, depth + 1, budget))
    if not node.items:
        raise QueryError(f"{type(node).__name__.lower()} needs at least one filter")
    items = tuple(_validate(item, catalogue, depth + 1, budget) for item in node.items)
    return And(items) if isinstance(node, And) else Or(items)


def _validate_condition(condition: Condition, catalogue: Catalogue) -> Condition:
    query_field = _lookup(catalogue, condition.field)
    op = _op(condition.op)
    if op not in _OPS_BY_KIND[query_field.kind]:
        allowed = ", ".join(o for o in Op if o in _OPS_BY_KIND[query_field.kind])
        raise QueryError(
            f"operator {op} does not apply to the {query_field.kind} field {query_field.name!r} (use {allowed})"
        )
    try:
        value = _condition_value(query_field.kind, op, condition.value)
    except QueryError as error:
        raise QueryError(f"{query_field.name}[{op}]: {error.reason}") from None
    return Condition(query_field.name, op, value)


def _condition_value(kind: Kind, op: Op, value: object) -> Any:
    if op is Op.IS_NULL:
        if not isinstance(value, bool):
            raise QueryError("is_null takes true or false")
        return value
    if op is Op.IN:
        if not isinstance(value, list | tuple) or not 1 <= len(value) <= MAX_IN_VALUES:
            raise QueryError(f"in takes a list of 1 to {MAX_IN_VALUES} values")
        return tuple(_scalar(kind, item) for item in value)
    return _scalar(Kind.TEXT if kind is Kind.TEXT_ARRAY else kind, value)


def _scalar(kind: Kind, value: object, *, max_length: int = MAX_STRING_LENGTH) -> Any:
    if value is None:
        raise QueryError("a value is required (use is_null to match empty values)")
    if isinstance(value, list | tuple | dict):
        raise QueryError(f"expected a single {kind} value, not {type(value).__name__}")
    if kind is Kind.TEXT:
        return _text(value, max_length)
    if kind not in _COERCERS:
        raise QueryError(f"a {kind} field takes no value")
    return _COERCERS[kind](value)


def _text(value: object, max_length: int) -> str:
    if not isinstance(value, str):
        raise QueryError(f"expected a string, not {_show(value)}")
    if len(value) > max_length:
        raise QueryError(f"strings are at most {max_length} characters long")
    if "\x00" in value:
        raise QueryError("strings cannot contain NUL characters")
    return value


def _number(value: object) -> Decimal:
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int) and not isinstance(value, bool):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, str) and _NUMBER_TEXT.fullmatch(value.strip()):
        number = Decimal(value.strip())
    else:
        raise QueryError(f"expected a number, not {_show(value)}")
    if not number.is_finite() or abs(number.adjusted()) > 100:
        raise QueryError(f"number out of range: {_show(value)}")
    return number


def _integer(value: object) -> int:
    if isinstance(value, bool):
        raise QueryError(f"expected an integer, not {_show(value)}")
    if isinstance(value, int):
        number = value
    elif isinstance(value, Decimal | float) and _integral(value):
        number = int(value)
    elif isinstance(value, str) and _INTEGER_TEXT.fullmatch(value.strip()):
        number = int(value.strip())
    else:
        raise QueryError(f"expected an integer, not {_show(value)}")
    if not _BIGINT[0] <= number <= _BIGINT[1]:
        raise QueryError(f"integer out of range: {_show(value)}")
    return number


def _integral(value: Decimal | float) -> bool:
    if isinstance(value, Decimal):
        return value.is_finite() and value == value.to_integral_value()
    return math.isfinite(value) and value.is_integer()


def _boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise QueryError(f"expected true or false, not {_show(value)}")
    return value


def _date(value: object) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and len(value) <= 32:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise QueryError(f"expected a date like 2024-01-31, not {_show(value)}")


def _datetime(value: object) -> datetime:
    moment: datetime | None = value if isinstance(value, datetime) else None
    if isinstance(value, str) and len(value) <= 64:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            moment = None
    if moment is None:
        raise QueryError(f"expected a date and time like 2024-01-31T09:30:00+03:00, not {_show(value)}")
    # As for stored datetimes: a naive time would silently mean UTC to the server and local time to the merchant.
    if moment.utcoffset() is None:
        raise QueryError(f"a date and time needs a UTC offset (Z or +03:00): {_show(value)}")
    return moment


def _uuid(value: object) -> UUID:
    if isinstance(value, UUID):
        return value
    if isinstance(value, str) and len(value) <= 64:
        try:
            return UUID(value)
        except ValueError:
            pass
    raise QueryError(f"expected a UUID, not {_show(value)}")


_COERCERS: dict[Kind, Callable[[object], Any]] = {
    Kind.NUMBER: _number,
    Kind.INTEGER: _integer,
    Kind.BOOLEAN: _boolean,
    Kind.DATE: _date,
    Kind.DATETIME: _datetime,
    Kind.UUID: _uuid,
}


# --- SQL ------------------------------------------------------------------------------------------------------


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def escape_like(text: str) -> str:
    """``text`` matched literally by LIKE/ILIKE. Backslash is PostgreSQL's default LIKE escape, so the SQL says no
    ``ESCAPE '\\'``: with it, a prepared statement's generic plan calls like_escape() on every row it filters."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass
class _Params:
    values: list[Any] = field(default_factory=list)

    def bind(self, value: Any, sql_type: str) -> str:
        self.values.append(value)
        return f"${len(self.values)}::{sql_type}"


def compile_filter(node: Filter, catalogue: Catalogue) -> tuple[str, list[Any]]:
    """A WHERE fragment with $1, $2... placeholders for the (validated) filter, and the values to bind."""
    params = _Params()
    return _compile(validate_filter(node, catalogue), catalogue, params), params.values


def _compile(node: Filter, catalogue: Catalogue, params: _Params) -> str:
    if isinstance(node, Condition):
        return _condition_sql(node, catalogue[node.field], params)
    if isinstance(node, Not):
        return f"(({_compile(node.item, catalogue, params)}) IS NOT TRUE)"
    joiner = " AND " if isinstance(node, And) else " OR "
    return "(" + joiner.join(_compile(item, catalogue, params) for item in node.items) + ")"


def _condition_sql(condition: Condition, query_field: QueryField, params: _Params) -> str:
    column, op, value = _quote(query_field.column), condition.op, condition.value
    sql_type = _SQL_TYPES.get(query_field.kind, "text")
    if op is Op.IS_NULL:
        return f"{column} IS NULL" if value else f"{column} IS NOT NULL"
    if op is Op.IN:
        return f"{column} = ANY({params.bind(list(value), sql_type + '[]')})"
    if op is Op.CONTAINS and query_field.kind is Kind.TEXT_ARRAY:
        return f"{params.bind(value, sql_type)} = ANY({column})"
    if op is Op.CONTAINS:
        return f"{column} ILIKE {params.bind('%' + escape_like(value) + '%', 'text')}"
    if op is Op.STARTS_WITH:
        return f"{column} ILIKE {params.bind(escape_like(value) + '%', 'text')}"
    return f"{column} {_COMPARISONS[op]} {params.bind(value, sql_type)}"


# --- sorts, limits and cursors ----------------------------------------------------------------------------------


def parse_sorts(text: str | None) -> tuple[Sort, ...]:
    """``total:desc:nulls_last,created_at:asc``: field, then optionally asc|desc and nulls_first|nulls_last."""
    if text is None or not text.strip():
        return ()
    if len(text) > 1000:
        raise QueryError("the sort is too long")
    parts = text.split(",")
    if len(parts) > MAX_SORTS:
        raise QueryError(f"at most {MAX_SORTS} sort fields")
    return tuple(_parse_sort(part.strip(), index) for index, part in enumerate(parts, start=1))


def _parse_sort(part: str, index: int) -> Sort:
    name, *options = part.split(":")
    if not _IDENTIFIER.fullmatch(name):
        raise QueryError(f"sort {index}: {_show(name)} is not a field name")
    direction: Direction | None = None
    nulls: Nulls | None = None
    for option in options:
        if option in ("asc", "desc") and direction is None:
            direction = Direction(option)
        elif option in ("nulls_first", "nulls_last") and nulls is None:
            nulls = Nulls(option.removeprefix("nulls_"))
        else:
            raise QueryError(
                f"sort {index}: unexpected {_show(option)} (expected asc or desc, then nulls_first or nulls_last)"
            )
    return Sort(name, direction or Direction.ASC, nulls or Nulls.LAST)


def resolve_sorts(sorts: Sequence[Sort], catalogue: Catalogue) -> tuple[SortKey, ...]:
    """The sort keys, with ``id`` ascending appended as the final tiebreaker unless already sorted on."""
    if len(sorts) > MAX_SORTS:
        raise QueryError(f"at most {MAX_SORTS} sort fields")
    keys: list[SortKey] = []
    for sort in sorts:
        query_field = _lookup(catalogue, sort.field)
        if query_field.kind not in _SORTABLE:
            raise QueryError(f"cannot sort by the {query_field.kind} field {query_field.name!r}")
        if any(key.field.column == query_field.column for key in keys):
            raise QueryError(f"the field {query_field.name!r} is sorted on twice")
        direction = _choice(Direction, sort.direction, "sort direction")
        keys.append(SortKey(query_field, direction, _choice(Nulls, sort.nulls, "nulls placement")))
    if not any(key.field.column == ID_COLUMN for key in keys):
        keys.append(SortKey(_ID_FIELD, Direction.ASC, Nulls.LAST))
    return tuple(keys)


def check_limit(limit: object) -> int:
    if isinstance(limit, int) and not isinstance(limit, bool) and 1 <= limit <= MAX_LIMIT:
        return limit
    raise QueryError(f"limit must be a whole number from 1 to {MAX_LIMIT}, not {_show(limit)}")


def parse_limit(text: str | None) -> int:
    """The ``limit`` query parameter: absent means `DEFAULT_LIMIT`."""
    if text is None or text == "":
        return DEFAULT_LIMIT
    if not text.isascii() or not text.isdigit() or len(text) > 6:
        raise QueryError(f"limit must be a whole number from 1 to {MAX_LIMIT}, not {_show(text)}")
    return check_limit(int(text))


def encode_cursor(keys: Sequence[SortKey], values: Sequence[Any]) -> str:
    """An opaque, url-safe cursor: the sort values of the last row, tagged with the version and the sort."""
    payload = {
        "v": CURSOR_VERSION,
        "s": [key.token for key in keys],
        "k": [_cursor_value(key.field.kind, value) for key, value in zip(keys, values, strict=True)],
    }
    raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _cursor_value(kind: Kind, value: Any) -> Any:
    if value is None or kind in (Kind.TEXT, Kind.INTEGER, Kind.BOOLEAN):
        return value
    if kind in (Kind.DATE, Kind.DATETIME):
        return value.isoformat()
    return str(value)  # numbers (Decimal, exactly) and UUIDs


def decode_cursor(cursor: str, keys: Sequence[SortKey]) -> list[Any]:
    """The sort values in a cursor, re-validated by kind; tampered or foreign cursors are a `QueryError`."""
    payload = _cursor_payload(cursor)
    if payload.get("v") != CURSOR_VERSION:
        raise QueryError("unsupported cursor version")
    if payload.get("s") != [key.token for key in keys]:
        raise QueryError("the cursor belongs to a different sort")
    values = payload.get("k")
    if set(payload) != {"v", "s", "k"} or not isinstance(values, list) or len(values) != len(keys):
        raise QueryError("malformed cursor")
    try:
        decoded = [
            None if raw is None else _scalar(key.field.kind, raw, max_length=MAX_CURSOR_LENGTH)
            for key, raw in zip(keys, values, strict=True)
        ]
    except QueryError as error:
        raise QueryError(f"malformed cursor: {error.reason}") from None
    if keys[-1].field.column == ID_COLUMN and decoded[-1] is None:
        raise QueryError("malformed cursor: no id")
    return decoded


def _cursor_payload(cursor: object) -> dict[str, Any]:
    if not isinstance(cursor, str) or not cursor or len(cursor) > MAX_CURSOR_LENGTH or not _BASE64URL.fullmatch(cursor):
        raise QueryError("malformed cursor")
    try:
        raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
        payload = json.loads(raw)
    except (binascii.Error, ValueError, RecursionError):
        raise QueryError("malformed cursor") from None
    if not isinstance(payload, dict):
        raise QueryError("malformed cursor")
    return payload


def _after_sql(keys: Sequence[SortKey], values: Sequence[Any], params: _Params) -> str:
    """Rows strictly after ``values`` in the order of ``keys``: an OR, for each key i, of (keys before i equal
    AND key i strictly after). NULLs are one group placed first or last, and tie among themselves."""
    placeholders = [
        None if value is None else params.bind(value, _SQL_TYPES[key.field.kind])
        for key, value in zip(keys, values, strict=True)
    ]
    terms: list[str] = []
    for i, key in enumerate(keys):
        after = _after_one(key, placeholders[i])
        if after is None:
            continue
        equal = [_equal_one(k, p) for k, p in zip(keys[:i], placeholders[:i], strict=True)]
        terms.append("(" + " AND ".join([*equal, after]) + ")")
    return "(" + " OR ".join(terms) + ")" if terms else "FALSE"


def _equal_one(key: SortKey, placeholder: str | None) -> str:
    column = _quote(key.field.column)
    return f"{column} IS NULL" if placeholder is None else f"{column} = {placeholder}"


def _after_one(key: SortKey, placeholder: str | None) -> str | None:
    column = _quote(key.field.column)
    if placeholder is None:
        # After NULL: the non-NULL values when NULLs come first; nothing (only ties) when they come last.
        return f"{column} IS NOT NULL" if key.nulls is Nulls.FIRST else None
    comparison = f"{column} {'>' if key.direction is Direction.ASC else '<'} {placeholder}"
    if key.nulls is Nulls.FIRST or key.field.column == ID_COLUMN:  # the id is never NULL
        return comparison
    return f"({comparison} OR {column} IS NULL)"


def _order_sql(key: SortKey) -> str:
    return f"{_quote(key.field.column)} {key.direction.upper()} NULLS {key.nulls.upper()}"


# --- pages ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageQuery:
    sql: str
    params: list[Any]
    count_sql: str | None
    count_params: list[Any]
    limit: int
    keys: tuple[SortKey, ...]

    def cursor_for(self, row: Mapping[str, Any]) -> str:
        return encode_cursor(self.keys, [row[key.field.column] for key in self.keys])


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    """asyncpg records, keyed by column name."""
    next_cursor: str | None
    """None on the last page."""
    total: int | None
    """Rows matching the filter (all pages), when asked for."""


def build_page_query(
    table: str,
    catalogue: Catalogue,
    filter: Filter | None = None,
    sorts: Sequence[Sort] = (),
    limit: int = DEFAULT_LIMIT,
    after_cursor: str | None = None,
    with_total: bool = False,
    *,
    include_deleted: bool = False,
    select: Sequence[str] | None = None,
) -> PageQuery:
    """The page query (it asks for ``limit + 1`` rows, to know whether another page follows) and, with
    ``with_total``, a count query. ``select`` names fields (``id`` and the sort columns are added); default all."""
    table_sql = _table(table)
    limit = check_limit(limit)
    keys = resolve_sorts(sorts, catalogue)
    checked = None if filter is None else validate_filter(filter, catalogue)
    params = _Params()
    where = _where(checked, catalogue, params, include_deleted)
    if after_cursor is not None:
        where.append(_after_sql(keys, decode_cursor(after_cursor, keys), params))
    order = ", ".join(_order_sql(key) for key in keys)
    # Not S608: identifiers come from the catalogue (validated and quoted), values are bound parameters.
    columns = _select_sql(select, keys, catalogue)
    # The limit is written out, not bound: PostgreSQL plans a prepared statement once (a generic plan) only when
    # that plan looks as cheap as one made for the values, and with an unknown limit it expects a tenth of the table,
    # so it planned every page query anew (~0.1 ms of its CPU a page). A checked integer, at most 200 statements.
    sql = f"SELECT {columns} FROM {table_sql} WHERE {' AND '.join(where)} ORDER BY {order} LIMIT {limit + 1:d}"  # noqa: S608
    count_sql, count_params = _count_query(table_sql, checked, catalogue, include_deleted) if with_total else (None, [])
    return PageQuery(sql, params.values, count_sql, count_params, limit, keys)


def build_count_query(
    table: str, catalogue: Catalogue, filter: Filter | None = None, *, include_deleted: bool = False
) -> tuple[str, list[Any]]:
    checked = None if filter is None else validate_filter(filter, catalogue)
    return _count_query(_table(table), checked, catalogue, include_deleted)


def _count_query(
    table_sql: str, checked: Filter | None, catalogue: Catalogue, include_deleted: bool
) -> tuple[str, list[Any]]:
    params = _Params()
    where = _where(checked, catalogue, params, include_deleted)
    return f"SELECT count(*) FROM {table_sql} WHERE {' AND '.join(where)}", params.values  # noqa: S608


def _table(table: str) -> str:
    if not isinstance(table, str) or not _IDENTIFIER.fullmatch(table):
        raise ValueError(f"{table!r} is not a valid table name")
    return _quote(table)


def _where(checked: Filter | None, catalogue: Catalogue, params: _Params, include_deleted: bool) -> list[str]:
    where = [] if include_deleted else [f"{_quote(DELETED_COLUMN)} IS NULL"]
    if checked is not None:
        where.append(_compile(checked, catalogue, params))
    return where or ["TRUE"]


def _select_sql(select: Sequence[str] | None, keys: Sequence[SortKey], catalogue: Catalogue) -> str:
    if select is None:
        return "*"
    columns = [ID_COLUMN, *(_lookup(catalogue, name).column for name in select), *(k.field.column for k in keys)]
    return ", ".join(_quote(column) for column in dict.fromkeys(columns))


async def fetch_page(
    connection: asyncpg.Connection,
    table: str,
    catalogue: Catalogue,
    filter: Filter | None = None,
    sorts: Sequence[Sort] = (),
    limit: int = DEFAULT_LIMIT,
    after_cursor: str | None = None,
    with_total: bool = False,
    *,
    include_deleted: bool = False,
    select: Sequence[str] | None = None,
) -> Page:
    """One page of rows and the cursor of the next; run it in a REPEATABLE READ transaction for a total that
    agrees with the rows under concurrent writes."""
    query = build_page_query(
        table,
        catalogue,
        filter,
        sorts,
        limit,
        after_cursor,
        with_total,
        include_deleted=include_deleted,
        select=select,
    )
    return await fetch_built_page(connection, query)


async def fetch_built_page(connection: asyncpg.Connection, query: PageQuery) -> Page:
    """`fetch_page` for a query built before (`build_page_query`), say once for every first page of a list."""
    rows = list(await connection.fetch(query.sql, *query.params))
    next_cursor = query.cursor_for(rows[query.limit - 1]) if len(rows) > query.limit else None
    total = None
    if query.count_sql is not None:
        total = int(await connection.fetchval(query.count_sql, *query.count_params))
    return Page(rows[: query.limit], next_cursor, total)
