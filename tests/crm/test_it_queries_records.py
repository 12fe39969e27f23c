"""The query layer against a real PostgreSQL: random filters select exactly the rows a plain-Python evaluation
selects, cursor pages neither skip nor repeat a row, injection attempts are rejected or harmless, and bad input
is a QueryError with a reason.

Text columns are COLLATE "C" so that PostgreSQL orders text by code point, as Python does, and ILIKE folds only
ASCII letters (lower() in the C locale): the reference evaluator does the same.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.crm.query import (
    DEFAULT_LIMIT,
    MAX_CONDITIONS,
    MAX_DEPTH,
    MAX_IN_VALUES,
    MAX_LIMIT,
    And,
    Condition,
    Direction,
    Filter,
    Kind,
    Not,
    Nulls,
    Op,
    Or,
    QueryError,
    QueryField,
    Sort,
    build_count_query,
    build_page_query,
    compile_filter,
    fetch_page,
    make_catalogue,
    operators_for,
    parse_filter,
    parse_filter_json,
    parse_limit,
    parse_sorts,
    resolve_sorts,
    validate_filter,
)
from tests.services import TestServers, create_database, drop_database, unique_name

RANDOM_TABLE = "records"
"""Empty between examples: each example loads its rows in a transaction that is rolled back."""
FIXED_TABLE = "fixed_records"
"""Committed rows for the injection and example tests."""

CATALOGUE = make_catalogue(
    [
        QueryField("id", "id", Kind.UUID),
        QueryField("name", "name", Kind.TEXT),
        QueryField("city", "city", Kind.TEXT),
        QueryField("order_total", "total", Kind.NUMBER),
        QueryField("quantity", "quantity", Kind.INTEGER),
        QueryField("paid", "paid", Kind.BOOLEAN),
        QueryField("born", "born", Kind.DATE),
        QueryField("seen_at", "seen_at", Kind.DATETIME),
        QueryField("tags", "tags", Kind.TEXT_ARRAY),
        QueryField("meta", "meta", Kind.JSON),
    ]
)
COLUMNS = ["id", "name", "city", "total", "quantity", "paid", "born", "seen_at", "tags", "meta", "deleted_at"]
DDL = """
CREATE TABLE {table} (
    id uuid PRIMARY KEY,
    name text COLLATE "C",
    city text COLLATE "C",
    total numeric,
    quantity integer,
    paid boolean,
    born date,
    seen_at timestamptz,
    tags text[],
    meta jsonb,
    deleted_at timestamptz
)
"""

RIYADH_TIME = timezone(timedelta(hours=3))
NAMES = ["Sara", "sara", "SARA", "Omar", "عمر", "سارة", "O'Brien", "x_y", "x%y", "x\\y", "' OR 1=1 --"]
CITIES = [
    *("Riyadh", "riyadh", "RIYADH", "Jeddah", "الرياض", "جدة", "الدمام"),
    *("100%", "a_b", "aXb", "back\\slash", "50% off_sale", "", "Émile", "émile"),
]
FRAGMENTS = ["ri", "RI", "ad", "h", "%", "_", "\\", "الر", "ياض", "É", "é", "x", "0%", "a_", "_b", "%y", "' OR", "sa"]
NUMBERS = [Decimal(n) for n in ("0", "1.5", "1.50", "-3", "100", "99.99", "1000000.001")]
INTEGERS = [-1, 0, 1, 2, 5, 2_147_483_647]
DATES = [date(1970, 1, 1), date(1999, 12, 31), date(2000, 1, 1), date(2024, 2, 29)]
MOMENTS = [
    datetime(2024, 1, 1, tzinfo=UTC),
    datetime(2024, 1, 1, 3, tzinfo=RIYADH_TIME),  # the same instant as the one above
    datetime(2024, 6, 1, 12, 30, 45, 123456, tzinfo=UTC),
    datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC),
]
TAG_LISTS: list[list[str | None]] = [[], ["vip"], ["vip", "new"], ["VIP"], ["عميل"], ["a%"], ["vip", None]]
TAGS = ["vip", "VIP", "new", "عميل", "a%", "%", "v"]
IDS = [uuid.UUID(int=n) for n in (1, 2, 0xFFFF, 2**64, 2**127 + 5, 2**128 - 1)]
DELETED_AT = datetime(2024, 5, 1, tzinfo=UTC)

# --- strategies ---------------------------------------------------------------------------------------------------


def maybe(values: Sequence[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), st.sampled_from(values))


ROW = st.fixed_dictionaries(
    {
        "id": st.one_of(st.sampled_from(IDS), st.uuids()),
        "name": maybe(NAMES),
        "city": maybe(CITIES),
        "total": maybe(NUMBERS),
        "quantity": maybe(INTEGERS),
        "paid": st.one_of(st.none(), st.booleans()),
        "born": maybe(DATES),
        "seen_at": maybe(MOMENTS),
        "tags": maybe(TAG_LISTS),
        "meta": maybe(['{"a": 1}', "null", "[]"]),  # JSON null is not SQL NULL
        "deleted_at": st.sampled_from([None, None, None, DELETED_AT]),
    }
)
# Sizes drawn uniformly: st.lists alone mostly makes tiny lists, and ties and pages need rows.
ROWS = st.integers(min_value=0, max_value=30).flatmap(
    lambda size: st.lists(ROW, min_size=size, max_size=size, unique_by=lambda row: row["id"])
)

FILTER_VALUES: dict[str, list[Any]] = {
    "id": IDS,
    "name": NAMES + CITIES,
    "city": CITIES + NAMES,
    "order_total": [*NUMBERS, Decimal("50"), Decimal("-0.5"), Decimal("100.0")],
    "quantity": [*INTEGERS, 3, 10**12],
    "paid": [True, False],
    "born": [*DATES, date(2010, 6, 15)],
    "seen_at": [*MOMENTS, datetime(2024, 3, 1, tzinfo=UTC)],
}


def value_for(query_field: QueryField, op: Op) -> st.SearchStrategy[Any]:
    if op is Op.IS_NULL:
        return st.booleans()
    if query_field.kind is Kind.TEXT_ARRAY:
        return st.sampled_from(TAGS)
    if op in (Op.CONTAINS, Op.STARTS_WITH):
        return st.sampled_from(NAMES + CITIES + FRAGMENTS)
    scalars = st.sampled_from(FILTER_VALUES[query_field.name])
    if op is Op.IN:
        return st.lists(scalars, min_size=1, max_size=4).map(tuple)
    return scalars


def conditions_on(query_field: QueryField) -> st.SearchStrategy[Filter]:
    ops = sorted(operators_for(query_field.kind))
    return st.sampled_from(ops).flatmap(
        lambda op: value_for(query_field, op).map(lambda value: Condition(query_field.name, op, value))
    )


def depth(node: Filter) -> int:
    if isinstance(node, Condition):
        return 0
    if isinstance(node, Not):
        return 1 + depth(node.item)
    return 1 + max(depth(item) for item in node.items)


def groups(children: st.SearchStrategy[Filter]) -> st.SearchStrategy[Filter]:
    items = st.lists(children, min_size=1, max_size=3).map(tuple)
    return st.one_of(items.map(And), items.map(Or), children.map(Not))


CONDITIONS = st.sampled_from(list(CATALOGUE.values())).flatmap(conditions_on)
FILTERS = st.recursive(CONDITIONS, groups, max_leaves=8).filter(lambda node: depth(node) <= MAX_DEPTH)
SORTABLE = [name for name, f in CATALOGUE.items() if f.kind not in (Kind.TEXT_ARRAY, Kind.JSON)]
SORTS = st.lists(st.sampled_from(SORTABLE), max_size=4, unique=True).flatmap(
    lambda names: st.tuples(
        *(st.builds(Sort, st.just(n), st.sampled_from(Direction), st.sampled_from(Nulls)) for n in names)
    )
)
EXAMPLES = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

# --- the reference: plain Python ------------------------------------------------------------------------------


def fold(text: str) -> str:
    """lower() in the C locale: ASCII letters only."""
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in text)


def matches(node: Filter, row: dict[str, Any]) -> bool:
    if isinstance(node, And):
        return all(matches(item, row) for item in node.items)
    if isinstance(node, Or):
        return any(matches(item, row) for item in node.items)
    if isinstance(node, Not):
        return not matches(node.item, row)
    query_field = CATALOGUE[node.field]
    value, target = row[query_field.column], node.value
    if node.op is Op.IS_NULL:
        return (value is None) is target
    if node.op is Op.NEQ:
        return value is None or value != target
    if value is None:
        return False
    return compare(node.op, query_field.kind, value, target)


def compare(op: Op, kind: Kind, value: Any, target: Any) -> bool:
    if op is Op.CONTAINS:
        return target in value if kind is Kind.TEXT_ARRAY else fold(target) in fold(value)
    if op is Op.STARTS_WITH:
        return fold(value).startswith(fold(target))
    if op is Op.IN:
        return value in target
    results = {
        Op.EQ: lambda: value == target,
        Op.GT: lambda: value > target,
        Op.GTE: lambda: value >= target,
        Op.LT: lambda: value < target,
        Op.LTE: lambda: value <= target,
    }
    return bool(results[op]())


def python_order(rows: list[dict[str, Any]], sorts: Sequence[Sort]) -> list[uuid.UUID]:
    keys = [(CATALOGUE[s.field].column, s.direction, s.nulls) for s in sorts]
    if not any(column == "id" for column, _, _ in keys):
        keys.append(("id", Direction.ASC, Nulls.LAST))

    def compare_rows(a: dict[str, Any], b: dict[str, Any]) -> int:
        for column, direction, nulls in keys:
            x, y = a[column], b[column]
            if (x is None and y is None) or x == y:
                continue
            if x is None or y is None:
                return -1 if (x is None) == (nulls is Nulls.FIRST) else 1
            return (-1 if x < y else 1) * (1 if direction is Direction.ASC else -1)
        return 0

    return [row["id"] for row in sorted(rows, key=functools.cmp_to_key(compare_rows))]


# --- rendering the AST in both input syntaxes -----------------------------------------------------------------


def json_value(value: Any) -> Any:
    if isinstance(value, tuple):
        return [json_value(item) for item in value]
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, date):  # and datetime
        return value.isoformat()
    return str(value)  # Decimal (as a string: coerced like a number) and UUID


def to_json(node: Filter) -> dict[str, Any]:
    if isinstance(node, Condition):
        return {"field": node.field, "op": str(node.op), "value": json_value(node.value)}
    if isinstance(node, Not):
        return {"not": to_json(node.item)}
    return {"and" if isinstance(node, And) else "or": [to_json(item) for item in node.items]}


def compact_value(value: Any) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(compact_value(item) for item in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    return json.dumps(json_value(value), ensure_ascii=False)


def to_compact(node: Filter, *, top: bool = False) -> str:
    if isinstance(node, Condition):
        return f"{node.field}[{node.op}]:{compact_value(node.value)}"
    if isinstance(node, Not):
        return f"not({to_compact(node.item)})"
    inner = ",".join(to_compact(item) for item in node.items)
    if top and isinstance(node, And) and len(node.items) > 1:
        return inner  # a top-level list means and
    return f"{'and' if isinstance(node, And) else 'or'}({inner})"


def render(node: Filter, syntax: str) -> Filter:
    if syntax == "compact":
        return parse_filter(to_compact(node))
    if syntax == "compact-list":
        return parse_filter(to_compact(node, top=True))
    if syntax == "json":
        return parse_filter_json(json.dumps(to_json(node), ensure_ascii=False))
    return node


# --- fixtures -----------------------------------------------------------------------------------------------------


ROBERT = "Robert'); DROP TABLE fixed_records; --"
FIXED_ROWS: list[dict[str, Any]] = [
    {"name": "' OR 1=1 --", "city": "Riyadh", "total": Decimal("10")},
    {"name": ROBERT, "city": None, "total": None},
    {"name": "100%", "city": "الرياض", "total": Decimal("100")},
    {"name": "100 percent", "city": "riyadh", "total": Decimal("100")},
    {"name": "a_b", "city": "Jeddah", "total": None},
    {"name": "aXb", "city": None, "total": Decimal("5")},
    {"name": "back\\slash", "city": "RIYADH", "total": Decimal("7")},
    {"name": "gone", "city": "Riyadh", "total": Decimal("1"), "deleted_at": DELETED_AT},
]


def record(values: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(values.get(column) for column in COLUMNS)


@pytest.fixture(scope="module")
async def connection(servers: TestServers) -> AsyncIterator[asyncpg.Connection]:
    """A throwaway database with an empty random table and a table of fixed rows."""
    name = unique_name("wosool_test_query")
    await create_database(servers.server_url, name)
    connection = await asyncpg.connect(servers.database_url(name))
    try:
        for table in (RANDOM_TABLE, FIXED_TABLE):
            await connection.execute(DDL.format(table=table))
        rows = [record({"id": uuid.uuid4(), **row}) for row in FIXED_ROWS]
        await connection.copy_records_to_table(FIXED_TABLE, records=rows, columns=COLUMNS)
        yield connection
    finally:
        await connection.close()
        await drop_database(servers.server_url, name)


@contextlib.asynccontextmanager
async def loaded(connection: asyncpg.Connection, rows: list[dict[str, Any]]) -> AsyncIterator[None]:
    transaction = connection.transaction()
    await transaction.start()
    try:
        if rows:
            await connection.copy_records_to_table(RANDOM_TABLE, records=[record(r) for r in rows], columns=COLUMNS)
        yield
    finally:
        await transaction.rollback()


# --- properties ---------------------------------------------------------------------------------------------------


@EXAMPLES
@given(
    rows=ROWS,
    tree=FILTERS,
    syntax=st.sampled_from(["ast", "compact", "compact-list", "json"]),
    include_deleted=st.booleans(),
)
async def test_random_filters_select_what_plain_python_selects(
    connection: asyncpg.Connection, rows: list[dict[str, Any]], tree: Filter, syntax: str, include_deleted: bool
) -> None:
    given_filter = render(tree, syntax)
    assert validate_filter(given_filter, CATALOGUE) == validate_filter(tree, CATALOGUE)
    async with loaded(connection, rows):
        page = await fetch_page(
            connection,
            RANDOM_TABLE,
            CATALOGUE,
            given_filter,
            limit=MAX_LIMIT,
            with_total=True,
            include_deleted=include_deleted,
        )
    expected = [row["id"] for row in rows if (include_deleted or row["deleted_at"] is None) and matches(tree, row)]
    assert sorted(row["id"] for row in page.rows) == sorted(expected)
    assert page.total == len(expected)
    assert page.next_cursor is None


@EXAMPLES
@given(
    rows=ROWS,
    sorts=SORTS,
    page_size=st.integers(min_value=1, max_value=8),
    tree=st.one_of(st.none(), CONDITIONS),
    as_text=st.booleans(),
)
async def test_cursor_pages_walk_every_row_once_in_order(
    connection: asyncpg.Connection,
    rows: list[dict[str, Any]],
    sorts: tuple[Sort, ...],
    page_size: int,
    tree: Filter | None,
    as_text: bool,
) -> None:
    if as_text:
        sorts = parse_sorts(",".join(f"{s.field}:{s.direction}:nulls_{s.nulls}" for s in sorts))
    walked: list[uuid.UUID] = []
    async with loaded(connection, rows):
        cursor, total = None, None
        for _ in range(len(rows) + 1):
            page = await fetch_page(
                connection, RANDOM_TABLE, CATALOGUE, tree, sorts, page_size, cursor, with_total=cursor is None
            )
            total = page.total if cursor is None else total
            walked.extend(row["id"] for row in page.rows)
            if page.next_cursor is None:
                assert page.rows or not walked, "an empty last page after a full one"
                break
            assert len(page.rows) == page_size
            cursor = page.next_cursor
        else:
            pytest.fail("the cursors never reached a last page")
    alive = [row for row in rows if row["deleted_at"] is None and (tree is None or matches(tree, row))]
    assert walked == python_order(alive, sorts)
    assert total == len(alive)


# --- injection ----------------------------------------------------------------------------------------------------

BAD_NAMES = ["name; DROP TABLE fixed_records", '"name"', "name) OR 1=1 --", 'name" = name OR "x', "NAME", ""]


async def count_fixed(connection: asyncpg.Connection) -> int:
    return int(await connection.fetchval(f"SELECT count(*) FROM {FIXED_TABLE}"))


@pytest.mark.parametrize("name", BAD_NAMES)
async def test_injection_in_field_names_is_rejected(connection: asyncpg.Connection, name: str) -> None:
    with pytest.raises(QueryError, match="unknown field"):
        compile_filter(parse_filter_json({"field": name, "op": "eq", "value": "x"}), CATALOGUE)
    with pytest.raises(QueryError):
        compile_filter(parse_filter(f'{name}[eq]:"x"'), CATALOGUE)
    with pytest.raises(QueryError):
        resolve_sorts(parse_sorts(name) or [Sort(name)], CATALOGUE)
    with pytest.raises(QueryError, match="unknown field"):
        build_page_query(FIXED_TABLE, CATALOGUE, sorts=[Sort(name)])
    with pytest.raises(QueryError, match="unknown field"):
        build_page_query(FIXED_TABLE, CATALOGUE, select=[name])
    assert await count_fixed(connection) == len(FIXED_ROWS)


@pytest.mark.parametrize("op", ["eq) OR (1=1", "eq; DROP TABLE fixed_records", "EQ", "like", ""])
def test_injection_in_operators_is_rejected(op: str) -> None:
    with pytest.raises(QueryError, match="unknown operator"):
        parse_filter_json({"field": "name", "op": op, "value": "x"})
    with pytest.raises(QueryError):
        parse_filter(f'name[{op}]:"x"')
    with pytest.raises(QueryError, match="unknown operator"):
        compile_filter(Condition("name", op, "x"), CATALOGUE)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("table", "column"),
    [("fixed_records; DROP TABLE x", "name"), ('fixed"records', "name"), ("fixed_records", "name; --")],
)
def test_injection_in_table_and_column_names_is_rejected(table: str, column: str) -> None:
    with pytest.raises(ValueError, match="not a valid"):
        build_page_query(table, make_catalogue([QueryField("name", column, Kind.TEXT)]))


@pytest.mark.parametrize(
    ("condition", "names"),
    [
        (Condition("name", Op.EQ, "' OR 1=1 --"), {"' OR 1=1 --"}),
        (
            Condition("name", Op.EQ, ROBERT),
            {ROBERT},
        ),
        (Condition("name", Op.IN, ("' OR 1=1 --", "x' OR 'x'='x")), {"' OR 1=1 --"}),
        (Condition("name", Op.CONTAINS, "%"), {"100%"}),
        (Condition("name", Op.CONTAINS, "_"), {"a_b", ROBERT}),  # ROBERT: fixed_records
        (Condition("name", Op.CONTAINS, "\\"), {"back\\slash"}),
        (Condition("name", Op.STARTS_WITH, "%"), set()),
        (Condition("name", Op.STARTS_WITH, "100%"), {"100%"}),
        (Condition("name", Op.STARTS_WITH, "A_"), {"a_b"}),
        (Condition("name", Op.CONTAINS, "' OR"), {"' OR 1=1 --"}),
    ],
)
async def test_injection_in_values_is_harmless(
    connection: asyncpg.Connection, condition: Condition, names: set[str]
) -> None:
    page = await fetch_page(connection, FIXED_TABLE, CATALOGUE, condition, with_total=True)
    assert {row["name"] for row in page.rows} == names
    assert page.total == len(names)
    assert await count_fixed(connection) == len(FIXED_ROWS)


# --- semantics by example -----------------------------------------------------------------------------------------


async def names_matching(connection: asyncpg.Connection, text: str, **options: Any) -> set[str]:
    page = await fetch_page(connection, FIXED_TABLE, CATALOGUE, parse_filter(text), **options)
    return {row["name"] for row in page.rows}


async def test_neq_and_not_include_nulls_while_eq_never_matches_them(connection: asyncpg.Connection) -> None:
    riyadh = {"' OR 1=1 --"}
    others = {ROBERT, "100%", "100 percent", "a_b", "aXb", "back\\slash"} - riyadh
    assert await names_matching(connection, 'city[eq]:"Riyadh"') == riyadh
    assert await names_matching(connection, 'city[neq]:"Riyadh"') == others
    assert await names_matching(connection, 'not(city[eq]:"Riyadh")') == others
    assert await names_matching(connection, "order_total[gt]:6") == {
        "' OR 1=1 --",
        "100%",
        "100 percent",
        "back\\slash",
    }
    assert await names_matching(connection, "not(order_total[gt]:6)") == {
        ROBERT,
        "a_b",
        "aXb",
    }
    assert await names_matching(connection, "city[is_null]:true") == {ROBERT, "aXb"}


async def test_contains_is_case_insensitive_and_arabic_matches(connection: asyncpg.Connection) -> None:
    assert await names_matching(connection, 'city[contains]:"riyadh"') == {"' OR 1=1 --", "100 percent", "back\\slash"}
    assert await names_matching(connection, 'city[starts_with]:"الر"') == {"100%"}


async def test_soft_deleted_rows_are_left_out_unless_asked_for(connection: asyncpg.Connection) -> None:
    assert "gone" not in await names_matching(connection, 'city[eq]:"Riyadh"')
    assert "gone" in await names_matching(connection, 'city[eq]:"Riyadh"', include_deleted=True)
    sql, params = build_count_query(FIXED_TABLE, CATALOGUE, include_deleted=True)
    assert await connection.fetchval(sql, *params) == len(FIXED_ROWS)


async def test_select_names_fields_and_keeps_the_sort_columns(connection: asyncpg.Connection) -> None:
    page = await fetch_page(connection, FIXED_TABLE, CATALOGUE, sorts=parse_sorts("order_total:desc"), select=["name"])
    assert set(page.rows[0].keys()) == {"id", "name", "total"}
    assert len(page.rows) == len(FIXED_ROWS) - 1


def test_every_value_is_a_bound_parameter() -> None:
    sql, params = compile_filter(
        parse_filter(
            'and(name[eq]:"zz\'zz",or(order_total[gte]:"12.5",tags[contains]:"vip"),not(name[contains]:"q%"))'
        ),
        CATALOGUE,
    )
    assert "zz" not in sql
    assert "12.5" not in sql
    assert "vip" not in sql
    assert params == ["zz'zz", Decimal("12.5"), "vip", "%q\\%%"]


# --- errors -------------------------------------------------------------------------------------------------------


def nested(levels: int) -> str:
    return "and(" * levels + 'name[eq]:"x"' + ")" * levels


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('and(name[eq]:"x"', "expected ',' or ')' but found the end"),
        ('name[eq]:"x")', "expected ',' or the end of the filter but found ')'"),
        ('or(name[eq]:"x",)', "expected a field name"),
        ("and()", "expected a field name"),
        ('name[like]:"x"', "unknown operator 'like'"),
        ('name[eq]"x"', "expected ':'"),
        ('name[eq]:"x', "unterminated string"),
        ('name[eq]:"\\q"', "invalid escape"),
        ("name[eq]:", "expected a value"),
        ("name[eq]:Riyadh", "expected a value"),
        ("name[in]:[[1]]", "cannot be nested"),
        ('not(name[eq]:"a",name[eq]:"b")', "exactly one"),
        (nested(MAX_DEPTH + 1), f"at most {MAX_DEPTH} levels"),
        (",".join(['name[eq]:"x"'] * (MAX_CONDITIONS + 1)), f"at most {MAX_CONDITIONS} conditions"),
        ('name[eq]:"' + "x" * 1001 + '"', "at most 1000 characters"),
    ],
)
def test_bad_compact_filters_are_errors_with_a_position(text: str, reason: str) -> None:
    with pytest.raises(QueryError, match="at position") as raised:
        parse_filter(text)
    assert reason in raised.value.reason
    assert raised.value.position is not None


def test_limits_are_inclusive() -> None:
    assert depth(parse_filter(nested(MAX_DEPTH))) == MAX_DEPTH
    parse_filter(",".join(['name[eq]:"x"'] * MAX_CONDITIONS))
    compile_filter(Condition("quantity", Op.IN, tuple(range(MAX_IN_VALUES))), CATALOGUE)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("", "not valid JSON"),
        ('{"and": [', "not valid JSON"),
        ("[]", "expected an object"),
        ({"and": []}, "non-empty list"),
        ({"or": {"field": "name"}}, "non-empty list"),
        ({"field": "name"}, "expected"),
        ({"field": "name", "op": "eq", "value": "x", "sql": "1=1"}, "expected"),
        ({"and": [{"field": "name", "op": "eq", "value": "x"}, {"nope": 1}]}, "$.and[1]"),
        ({"not": {"not": {"not": {"not": {"not": {"not": {"not": {"not": {"not": {}}}}}}}}}}, "levels"),
        ({"or": [{"field": "name", "op": "eq", "value": "x"}] * (MAX_CONDITIONS + 1)}, "conditions"),
        ("[" * 100_000, "at most"),
    ],
)
def test_bad_json_filters_are_errors(data: Any, reason: str) -> None:
    with pytest.raises(QueryError) as raised:
        parse_filter_json(data)
    assert reason in raised.value.reason


@pytest.mark.parametrize(
    ("condition", "reason"),
    [
        (Condition("nope", Op.EQ, 1), "unknown field 'nope'"),
        (Condition("order_total", Op.CONTAINS, "1"), "does not apply to the number field"),
        (Condition("paid", Op.GT, True), "does not apply to the boolean field"),
        (Condition("tags", Op.EQ, "vip"), "does not apply"),
        (Condition("meta", Op.EQ, "{}"), "does not apply"),
        (Condition("name", Op.IS_NULL, "yes"), "true or false"),
        (Condition("name", Op.IN, ()), "list of 1 to 200"),
        (Condition("name", Op.IN, "abc"), "list of 1 to 200"),
        (Condition("quantity", Op.IN, tuple(range(MAX_IN_VALUES + 1))), "list of 1 to 200"),
        (Condition("name", Op.IN, ("a", None)), "is_null"),
        (Condition("name", Op.EQ, None), "is_null"),
        (Condition("name", Op.EQ, 5), "expected a string"),
        (Condition("name", Op.EQ, "a\x00b"), "NUL"),
        (Condition("paid", Op.EQ, "true"), "true or false"),
        (Condition("quantity", Op.EQ, "1.5"), "expected an integer"),
        (Condition("quantity", Op.EQ, True), "expected an integer"),
        (Condition("quantity", Op.EQ, 2**63), "out of range"),
        (Condition("order_total", Op.EQ, "abc"), "expected a number"),
        (Condition("order_total", Op.EQ, "NaN"), "expected a number"),
        (Condition("order_total", Op.EQ, float("inf")), "out of range"),
        (Condition("born", Op.EQ, "2024-13-01"), "expected a date"),
        (Condition("born", Op.EQ, datetime(2024, 1, 1, tzinfo=UTC)), "expected a date"),
        (Condition("seen_at", Op.EQ, "2024-01-01T10:00:00"), "UTC offset"),
        (Condition("seen_at", Op.EQ, "yesterday"), "expected a date and time"),
        (Condition("id", Op.EQ, "not-a-uuid"), "expected a UUID"),
        (And(()), "at least one"),
    ],
)
def test_invalid_conditions_are_errors(condition: Filter, reason: str) -> None:
    with pytest.raises(QueryError) as raised:
        compile_filter(condition, CATALOGUE)
    assert reason in raised.value.reason


def test_values_are_coerced_by_kind() -> None:
    checked = validate_filter(
        parse_filter_json(
            {
                "and": [
                    {"field": "order_total", "op": "gte", "value": "1.50"},
                    {"field": "quantity", "op": "in", "value": ["2", 3, 4.0]},
                    {"field": "born", "op": "lt", "value": "2024-02-29"},
                    {"field": "seen_at", "op": "gt", "value": "2024-01-01T03:00:00+03:00"},
                    {"field": "id", "op": "eq", "value": str(IDS[0])},
                ]
            }
        ),
        CATALOGUE,
    )
    assert isinstance(checked, And)
    assert [item.value for item in checked.items if isinstance(item, Condition)] == [
        Decimal("1.50"),
        (2, 3, 4),
        date(2024, 2, 29),
        datetime(2024, 1, 1, tzinfo=UTC),
        IDS[0],
    ]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("name; DROP TABLE x", "not a field name"),
        ("name) OR 1=1 --", "not a field name"),
        ('"name"', "not a field name"),
        ("name:sideways", "unexpected 'sideways'"),
        ("name:asc:desc", "unexpected 'desc'"),
        ("name,,city", "not a field name"),
        (",".join(["name"] * 7), "at most 6"),
    ],
)
def test_bad_sorts_are_errors(text: str, reason: str) -> None:
    with pytest.raises(QueryError) as raised:
        parse_sorts(text)
    assert reason in raised.value.reason


@pytest.mark.parametrize(
    ("sorts", "reason"),
    [
        ([Sort("tags")], "cannot sort by the text_array field"),
        ([Sort("meta")], "cannot sort by the json field"),
        ([Sort("name"), Sort("name", Direction.DESC)], "sorted on twice"),
        ([Sort("name", "sideways")], "unknown sort direction"),  # type: ignore[arg-type]
    ],
)
def test_unusable_sorts_are_errors(sorts: list[Sort], reason: str) -> None:
    with pytest.raises(QueryError) as raised:
        resolve_sorts(sorts, CATALOGUE)
    assert reason in raised.value.reason


def test_sorts_default_to_ascending_nulls_last_and_end_on_the_id() -> None:
    assert parse_sorts("order_total:desc:nulls_first, name:nulls_first:desc, city") == (
        Sort("order_total", Direction.DESC, Nulls.FIRST),
        Sort("name", Direction.DESC, Nulls.FIRST),
        Sort("city", Direction.ASC, Nulls.LAST),
    )
    keys = resolve_sorts(parse_sorts("city"), CATALOGUE)
    assert [key.token for key in keys] == ["city:asc:nulls_last", "id:asc:nulls_last"]
    assert len(resolve_sorts(parse_sorts("id:desc"), CATALOGUE)) == 1


@pytest.mark.parametrize("limit", [0, -1, MAX_LIMIT + 1, True, "50", 2.5])
def test_limits_outside_1_to_200_are_errors(limit: Any) -> None:
    with pytest.raises(QueryError, match="limit must be"):
        build_page_query(FIXED_TABLE, CATALOGUE, limit=limit)


def test_the_limit_parameter() -> None:
    assert parse_limit(None) == DEFAULT_LIMIT == 50
    assert parse_limit("200") == MAX_LIMIT == 200
    for text in ("0", "201", "abc", "-1", "1e2", "١٠"):
        with pytest.raises(QueryError, match="limit must be"):
            parse_limit(text)


def b64(payload: Any) -> str:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


async def a_real_cursor(connection: asyncpg.Connection) -> str:
    page = await fetch_page(connection, FIXED_TABLE, CATALOGUE, sorts=parse_sorts("order_total:desc,name"), limit=2)
    assert page.next_cursor is not None
    return page.next_cursor


async def test_tampered_and_malformed_cursors_are_errors(connection: asyncpg.Connection) -> None:
    cursor = await a_real_cursor(connection)
    payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    assert payload["v"] == 1
    sorts = parse_sorts("order_total:desc,name")
    cases = {
        "": "malformed cursor",
        "!!!!": "malformed cursor",
        "abc": "malformed cursor",
        cursor[:-6]: "malformed cursor",
        cursor + "=": "malformed cursor",
        b64(b"\xff\xfe"): "malformed cursor",
        b64([1, 2]): "malformed cursor",
        b64({**payload, "v": 2}): "unsupported cursor version",
        b64({**payload, "s": ["name:asc:nulls_last", "id:asc:nulls_last"]}): "different sort",
        b64({**payload, "k": payload["k"][:2]}): "malformed cursor",
        b64({**payload, "k": ["abc", *payload["k"][1:]]}): "malformed cursor: expected a number",
        b64({**payload, "k": [*payload["k"][:2], None]}): "no id",
        b64({**payload, "k": [*payload["k"][:2], "1; DROP TABLE x"]}): "expected a UUID",
        b64({**payload, "extra": 1}): "malformed cursor",
        "A" * 20_000: "malformed cursor",
    }
    for bad, reason in cases.items():
        with pytest.raises(QueryError) as raised:
            build_page_query(FIXED_TABLE, CATALOGUE, sorts=sorts, after_cursor=bad)
        assert reason in raised.value.reason, bad


async def test_a_cursor_only_works_with_its_own_sort(connection: asyncpg.Connection) -> None:
    cursor = await a_real_cursor(connection)
    with pytest.raises(QueryError, match="different sort"):
        build_page_query(FIXED_TABLE, CATALOGUE, sorts=parse_sorts("order_total:asc,name"), after_cursor=cursor)
    page = await fetch_page(
        connection, FIXED_TABLE, CATALOGUE, sorts=parse_sorts("order_total:desc,name"), after_cursor=cursor
    )
    assert len(page.rows) == len(FIXED_ROWS) - 1 - 2
