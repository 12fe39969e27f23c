"""CSV import into any object: the upload is checked and stored (`create_import`), then a job (`run_import`, called
by tasks/imports.py) converts, validates and writes every row.

The file: UTF-8 with or without a BOM, or UTF-16 with a BOM (Excel's "Unicode text"); the first row is the header.
Row numbers in reports are spreadsheet rows: the header is row 1, the first record row 2.

The mapping: CSV column -> target, where a target is a field name or, for composite fields, a part as the export
writes it: currency ``price`` (``"12.50 SAR"``, or just ``"12.50"`` in the field's default currency), ``price_amount``
and ``price_currency``; full name ``name_first``/``name_last``; address ``address_city``... A mapping value of null
or "" skips a column. Without a mapping, every column maps to the target of the same name, and the record columns
an export writes (id, created_at, updated_at) are skipped, so an exported file imports as it is.

Cells: blank cells are left out (on an update they leave the stored value alone); booleans accept
true/false, yes/no, 1/0 (and نعم/لا); phones, e-mails, links and multi-selects take several values separated by ";"
(the first is the primary one); json cells hold JSON text. Every row is then validated by `validate_record`, so a
row gets exactly the reasons the API would give.

Modes: ``all_or_nothing`` (default) writes everything in one transaction and rolls it back if any row is bad: the
report then lists every bad row and nothing changes. ``skip_bad_rows`` writes the good rows and reports the bad.
With ``dedupe_field`` a row whose (normalised) value matches a live record updates that record; two rows of one
file with the same value are an error on the second.

Speed: new rows go in with COPY in batches of `BATCH_ROWS`, updates with executemany. The timeline gets one
``imported`` event per import (object_name = the object, record_id = the import id, counts in the diff), not one
event per row; the records carry created_by/updated_by source ``import`` with the import id.

Progress (processed_rows, failed_rows) is written after every batch through a second connection, so it is readable
while the import's own transaction is still open; the final status and counts commit together with the rows.
"""

from __future__ import annotations

import asyncio
import codecs
import csv
import io
import itertools
import json
import uuid
from collections.abc import Coroutine, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from app.crm.fields import (
    FieldDefinition,
    FieldType,
    RecordInvalid,
    column_names,
    quote_ident,
    validate_record,
)
from app.crm.fields import (
    columns as field_columns,
)
from app.crm.metadata import ObjectDefinition
from app.crm.search_text import search_text

__all__ = [
    "BATCH_ROWS",
    "MAX_REPORT",
    "MAX_UPLOAD_BYTES",
    "MODES",
    "CsvOutline",
    "ImportNotFound",
    "ImportRefused",
    "PreviewRow",
    "Target",
    "UploadTooLarge",
    "check_plan",
    "create_import",
    "decode_csv",
    "dedupe_fields",
    "fail_import",
    "get_import",
    "import_to_api",
    "outline_csv",
    "plan_columns",
    "preview_import",
    "record_search_text",
    "run_import",
    "targets_of",
]

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
BATCH_ROWS = 1000
MAX_REPORT = 1000
MODES = ("all_or_nothing", "skip_bad_rows")
SKIPPED_COLUMNS = frozenset({"id", "created_at", "updated_at"})
_DEDUPE_TYPES = frozenset({FieldType.TEXT, FieldType.EMAILS, FieldType.PHONES, FieldType.LINKS, FieldType.NUMBER})
_LISTS = frozenset({FieldType.PHONES, FieldType.EMAILS, FieldType.LINKS, FieldType.MULTI_SELECT})
_TRUE = frozenset({"true", "yes", "1", "y", "t", "نعم"})
_FALSE = frozenset({"false", "no", "0", "n", "f", "لا"})
_PARTS: dict[FieldType, tuple[str, ...]] = {
    FieldType.CURRENCY: ("amount", "currency"),
    FieldType.FULL_NAME: ("first", "last"),
    FieldType.ADDRESS: ("street", "city", "region", "postal_code", "country"),
}


class ImportRefused(ValueError):
    """The upload cannot become an import (encoding, header, mapping, object, mode); nothing is stored."""


class UploadTooLarge(ImportRefused):
    pass


class ImportNotFound(LookupError):
    pass


@dataclass(frozen=True)
class Target:
    """Where a CSV column goes: a field, and the part of a composite field (None: the whole value)."""

    field: FieldDefinition
    part: str | None = None


def targets_of(obj: ObjectDefinition) -> dict[str, Target]:
    """Every name a CSV column can map to (the export's column names)."""
    found: dict[str, Target] = {}
    for definition in obj.fields:
        if definition.type != FieldType.FULL_NAME and definition.type != FieldType.ADDRESS:
            found[definition.name] = Target(definition)
        for part in _PARTS.get(definition.type, ()):
            found[f"{definition.name}_{part}"] = Target(definition, part)
    return found


def decode_csv(content: bytes) -> str:
    """The text of an upload; refuses anything that is not UTF-8 (BOM optional) or UTF-16 with a BOM."""
    if len(content) > MAX_UPLOAD_BYTES:
        raise UploadTooLarge(f"the file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
    try:
        if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            text = content.decode("utf-16")
        else:
            text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportRefused(
            f"the file is not UTF-8 or UTF-16 text (byte {error.start}); save it as CSV UTF-8"
        ) from None
    if "\x00" in text:
        raise ImportRefused("the file contains NUL characters; save it as CSV UTF-8")
    return text


def _rows(text: str) -> Iterator[list[str]]:
    return csv.reader(io.StringIO(text, newline=""), strict=True)


def _header(text: str) -> list[str]:
    try:
        header = next(_rows(text), None)
    except csv.Error as error:
        raise ImportRefused(f"the header row is not valid CSV: {error}") from None
    if not header or not any(cell.strip() for cell in header):
        raise ImportRefused("the file is empty: the first row must name the columns")
    return [cell.strip() for cell in header]


def plan_columns(
    obj: ObjectDefinition, header: Sequence[str], mapping: Mapping[str, str | None] | None
) -> dict[int, Target]:
    """Column index -> target; raises ImportRefused naming every bad column."""
    targets = targets_of(obj)
    if mapping is None:
        chosen = {name: name for name in header if name and name not in SKIPPED_COLUMNS}
    else:
        missing = [column for column in mapping if column not in header]
        if missing:
            raise ImportRefused(f"the mapping names columns the file does not have: {', '.join(missing)}")
        chosen = {column: target for column, target in mapping.items() if target}
    unknown = [f"{column} -> {target}" for column, target in chosen.items() if target not in targets]
    if unknown:
        raise ImportRefused(f"{obj.name} has no field for: {', '.join(unknown)}; known: {', '.join(targets)}")
    used = list(chosen.values())
    twice = sorted({target for target in used if used.count(target) > 1})
    if twice:
        raise ImportRefused(f"more than one column maps to {', '.join(twice)}")
    if len(set(header)) != len(header):
        raise ImportRefused("two columns of the header have the same name")
    if not chosen:
        raise ImportRefused("no column maps to a field")
    return {header.index(column): targets[target] for column, target in chosen.items()}


def _check_options(obj: ObjectDefinition, mode: str, dedupe_field: str | None) -> None:
    if mode not in MODES:
        raise ImportRefused(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    if dedupe_field is None:
        return
    definition = obj.field(dedupe_field)
    if definition is None or definition.type not in _DEDUPE_TYPES:
        choices = [item.name for item in obj.fields if item.type in _DEDUPE_TYPES]
        raise ImportRefused(f"dedupe_field must be one of {', '.join(choices)}, not {dedupe_field!r}")


def _count_rows(text: str) -> int:
    try:
        return sum(1 for row in _rows(text) if any(cell.strip() for cell in row)) - 1
    except csv.Error as error:
        raise ImportRefused(f"the file is not valid CSV: {error}") from None


async def create_import(
    connection: asyncpg.Connection,
    obj: ObjectDefinition,
    *,
    content: bytes,
    file_name: str,
    mode: str = "all_or_nothing",
    dedupe_field: str | None = None,
    mapping: Mapping[str, str | None] | None = None,
    created_by: str | None = None,
) -> dict[str, Any]:
    """Check the upload (encoding, header, mapping, options) and store it as a pending import job."""
    text = decode_csv(content)
    header = _header(text)
    columns = plan_columns(obj, header, mapping)
    _check_options(obj, mode, dedupe_field)
    if dedupe_field is not None and not any(target.field.name == dedupe_field for target in columns.values()):
        raise ImportRefused(f"no column maps to the dedupe field {dedupe_field}")
    total = _count_rows(text)
    if total < 1:
        raise ImportRefused("the file has a header but no rows")
    stored = {header[index]: _target_name(target) for index, target in columns.items()}
    row = await connection.fetchrow(
        "INSERT INTO import_jobs (object_name, mode, dedupe_field, mapping, file_name, content, total_rows, created_by)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *",
        obj.name,
        mode,
        dedupe_field,
        stored,
        file_name[:255],
        content,
        total,
        created_by,
    )
    return import_to_api(row)


def _target_name(target: Target) -> str:
    return target.field.name if target.part is None else f"{target.field.name}_{target.part}"


def import_to_api(row: Mapping[str, Any]) -> dict[str, Any]:
    def moment(name: str) -> str | None:
        return None if row[name] is None else row[name].isoformat()

    return {
        "id": str(row["id"]),
        "object": row["object_name"],
        "status": row["status"],
        "mode": row["mode"],
        "dedupe_field": row["dedupe_field"],
        "mapping": row["mapping"],
        "file_name": row["file_name"],
        "progress": {"processed": row["processed_rows"], "total": row["total_rows"]},
        "counts": {"created": row["created_rows"], "updated": row["updated_rows"], "failed": row["failed_rows"]},
        "report": row["report"],
        "error": row["error"],
        "created_at": moment("created_at"),
        "started_at": moment("started_at"),
        "finished_at": moment("finished_at"),
    }


async def get_import(connection: asyncpg.Connection, import_id: uuid.UUID) -> dict[str, Any]:
    row = await connection.fetchrow(
        "SELECT * FROM import_jobs WHERE id = $1", import_id
    )  # content is returned too; fine at this size, but never sent to the client
    if row is None:
        raise ImportNotFound(f"There is no import {import_id}.")
    return import_to_api(row)


# --- cells -> API values ----------------------------------------------------------------------------------------


class _CellError(ValueError):
    pass


def _boolean(text: str) -> bool:
    folded = text.strip().casefold()
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    raise _CellError(f"{text!r} is not a yes/no value; use true/false, yes/no or 1/0")


def _split(text: str) -> list[str]:
    return [item.strip() for item in text.split(";") if item.strip()]


def _currency(text: str) -> dict[str, Any]:
    words = text.replace("\u00a0", " ").split()
    codes = [word for word in words if word.isalpha()]
    amounts = [word for word in words if not word.isalpha()]
    if len(amounts) != 1 or len(codes) > 1:
        raise _CellError(f"{text!r} is not an amount such as 12.50 or 12.50 SAR")
    return {"amount": amounts[0].replace(",", ""), "currency": codes[0] if codes else None}


def _whole(definition: FieldDefinition, text: str) -> Any:
    kind = definition.type
    if kind == FieldType.BOOLEAN:
        return _boolean(text)
    if kind == FieldType.CURRENCY:
        return _currency(text)
    if kind == FieldType.RATING:
        return int(text) if text.strip().isdigit() else text
    if kind == FieldType.JSON:
        try:
            return json.loads(text)
        except ValueError:
            raise _CellError("not valid JSON") from None
    if kind in _LISTS:
        items = _split(text)
        if kind == FieldType.MULTI_SELECT:
            return items
        if kind == FieldType.LINKS:
            return {"primary_url": items[0], "additional": [{"url": item} for item in items[1:]]} if items else None
        return {"primary": items[0], "additional": items[1:]} if items else None
    return text


def _value(definition: FieldDefinition, parts: Mapping[str | None, str]) -> Any:
    if None in parts:
        return _whole(definition, parts[None])
    if definition.type == FieldType.CURRENCY:
        amount = parts.get("amount")
        if amount is None:
            raise _CellError("an amount column is needed with the currency column")
        return {"amount": amount.replace(",", ""), "currency": parts.get("currency")}
    return dict(parts)


def _row_data(columns: Mapping[int, Target], cells: Sequence[str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The API-shaped record of a CSV row, and the errors of cells that cannot be converted at all."""
    grouped: dict[str, tuple[FieldDefinition, dict[str | None, str]]] = {}
    for index, target in columns.items():
        text = cells[index].strip() if index < len(cells) else ""
        if text:
            grouped.setdefault(target.field.name, (target.field, {}))[1][target.part] = text
    data: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, (definition, parts) in grouped.items():
        try:
            data[name] = _value(definition, parts)
        except _CellError as error:
            errors[name] = str(error)
    return data, errors


def record_search_text(obj: ObjectDefinition, row: Mapping[str, Any]) -> str:
    """The ``search_text`` column of a record (the same rule as app.crm.records)."""
    searchable = [item for item in obj.fields if item.searchable]
    texts = [
        row.get(column)
        for item in searchable
        if item.type != FieldType.PHONES
        for column in column_names(item)
        if isinstance(row.get(column), str)
    ]
    phones = [row.get(f"{item.name}_primary") for item in searchable if item.type == FieldType.PHONES]
    return search_text(texts, phones=[phone for phone in phones if isinstance(phone, str)])


# --- the job ----------------------------------------------------------------------------------------------------


@dataclass
class _Run:
    """One import run: its settings and what has happened so far."""

    id: uuid.UUID
    obj: ObjectDefinition
    columns: dict[int, Target]
    mode: str
    dedupe: FieldDefinition | None
    actor: dict[str, Any]
    processed: int = 0
    created: int = 0
    updated: int = 0
    failed: int = 0
    report: list[dict[str, Any]] = field(default_factory=list)
    seen: dict[Any, int] = field(default_factory=dict)
    json_columns: set[str] = field(default_factory=set)

    @property
    def writing(self) -> bool:
        """False once an all-or-nothing import has a bad row: the rest is only validated."""
        return self.mode == "skip_bad_rows" or self.failed == 0

    def fail(self, row: int, errors: Mapping[str, str]) -> None:
        self.failed += 1
        if len(self.report) < MAX_REPORT:
            self.report.append({"row": row, "errors": dict(errors)})


@dataclass
class _Batch:
    creates: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    updates: list[tuple[int, uuid.UUID, dict[str, Any]]] = field(default_factory=list)


async def _claim(progress: asyncpg.Connection, import_id: uuid.UUID) -> asyncpg.Record | None:
    """Mark the job running and reset its counts; None if it is missing or already succeeded (a re-run)."""
    row: asyncpg.Record | None = await progress.fetchrow(
        "UPDATE import_jobs SET status = 'running', started_at = now(), finished_at = NULL, processed_rows = 0,"
        " created_rows = 0, updated_rows = 0, failed_rows = 0, report = '[]', error = NULL"
        " WHERE id = $1 AND status <> 'succeeded' RETURNING *",
        import_id,
    )
    return row


async def run_import(
    connection: asyncpg.Connection, progress: asyncpg.Connection, obj: ObjectDefinition, import_id: uuid.UUID
) -> str | None:
    """Run an import job on two connections of the tenant; the status it ended with (None: nothing to do)."""
    job = await _claim(progress, import_id)
    if job is None:
        return None
    text = decode_csv(job["content"])
    header = _header(text)
    run = _Run(
        id=import_id,
        obj=obj,
        columns=plan_columns(obj, header, job["mapping"]),
        mode=job["mode"],
        dedupe=None if job["dedupe_field"] is None else obj.field(job["dedupe_field"]),
        actor={"source": "import", "id": str(import_id), "name": job["file_name"] or None},
        json_columns=_json_columns(obj),
    )
    try:
        async with connection.transaction():
            await _import_rows(connection, progress, run, text)
            if not run.writing:
                raise _RollBack
            await _summarise(connection, run)
            await _finish(connection, run, "succeeded")
    except _RollBack:
        run.created = run.updated = 0
        await _finish(progress, run, "failed", f"{run.failed} row(s) are not valid; nothing was imported")
        return "failed"
    return "succeeded"


class _RollBack(Exception):
    """Leaves the import's transaction without writing anything."""


async def fail_import(connection: asyncpg.Connection, import_id: uuid.UUID, reason: str) -> None:
    """Mark a job failed for a reason outside the rows (the job gave up)."""
    await connection.execute(
        "UPDATE import_jobs SET status = 'failed', error = $2, finished_at = now() WHERE id = $1", import_id, reason
    )


async def _finish(connection: asyncpg.Connection, run: _Run, status: str, error: str | None = None) -> None:
    await connection.execute(
        "UPDATE import_jobs SET status = $2, processed_rows = $3, created_rows = $4, updated_rows = $5,"
        " failed_rows = $6, report = $7, error = $8, finished_at = now() WHERE id = $1",
        run.id,
        status,
        run.processed,
        run.created,
        run.updated,
        run.failed,
        run.report,
        error,
    )


async def _summarise(connection: asyncpg.Connection, run: _Run) -> None:
    await connection.execute(
        "INSERT INTO timeline_events (object_name, record_id, kind, actor_source, actor_id, actor_name, diff, summary)"
        " VALUES ($1, $2, 'imported', 'import', $3, $4, $5, $6)",
        run.obj.name,
        run.id,
        run.actor["id"],
        run.actor["name"],
        {"created": run.created, "updated": run.updated, "skipped": run.failed},
        f"Imported {run.created} new and {run.updated} updated {run.obj.name} from {run.actor['name'] or 'a file'}",
    )


def _numbered_batches(text: str) -> Iterator[list[tuple[int, list[str]]]]:
    batch: list[tuple[int, list[str]]] = []
    rows = _rows(text)
    next(rows)  # the header
    for number, cells in enumerate(rows, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        batch.append((number, cells))
        if len(batch) == BATCH_ROWS:
            yield batch
            batch = []
    if batch:
        yield batch


async def _import_rows(connection: asyncpg.Connection, progress: asyncpg.Connection, run: _Run, text: str) -> None:
    """Batch by batch; a batch's writes run on the server while the next batch is validated here (pipelined),
    except with dedupe, where validating the next batch reads what the previous one wrote."""
    await _create_staging(connection, run.obj)
    writing: asyncio.Task[None] | None = None
    try:
        for rows in _numbered_batches(text):
            if run.dedupe is not None and writing is not None:
                await writing
            batch = await _prepare(connection, run, rows)
            if writing is not None:
                await writing
                writing = None
            if run.writing:
                writing = asyncio.create_task(_write(connection, run, batch))
            run.processed += len(rows)
            await _report_progress(progress, run)
        if writing is not None:
            await writing
    finally:
        if writing is not None and not writing.done():
            writing.cancel()


async def _report_progress(progress: asyncpg.Connection, run: _Run) -> None:
    await progress.execute(
        "UPDATE import_jobs SET processed_rows = $2, failed_rows = $3 WHERE id = $1", run.id, run.processed, run.failed
    )


def _validated(run: _Run, number: int, cells: list[str], partial: bool) -> dict[str, Any] | None:
    data, errors = _row_data(run.columns, cells)
    try:
        values = validate_record(run.obj.fields, {k: v for k, v in data.items() if k not in errors}, partial=partial)
    except RecordInvalid as invalid:
        errors = {**invalid.errors, **errors}
        values = {}
    if errors:
        run.fail(number, errors)
        return None
    return values


async def _prepare(connection: asyncpg.Connection, run: _Run, rows: list[tuple[int, list[str]]]) -> _Batch:
    batch = _Batch()
    if run.dedupe is None:
        for number, cells in rows:
            values = _validated(run, number, cells, partial=False)
            if values is not None:
                batch.creates.append((number, values))
        return batch
    key_column = column_names(run.dedupe)[0]
    checked = [(number, cells, _validated(run, number, cells, partial=True)) for number, cells in rows]
    keys = [values.get(key_column) for _, _, values in checked if values is not None]
    existing = await _existing(connection, run.obj, key_column, [key for key in keys if key is not None])
    for number, cells, values in checked:
        if values is not None:
            _route(run, batch, (number, cells, values), key_column, existing)
    return batch


def _route(
    run: _Run,
    batch: _Batch,
    row: tuple[int, list[str], dict[str, Any]],
    key_column: str,
    existing: Mapping[Any, asyncpg.Record],
) -> None:
    """A deduplicated row: an update of the matching record, or a create (validated again, as a whole record)."""
    number, cells, values = row
    key = values.get(key_column)
    assert run.dedupe is not None
    if key is not None and key in run.seen:
        run.fail(number, {run.dedupe.name: f"the same value as row {run.seen[key]} of this file"})
        return
    if key is not None:
        run.seen[key] = number
    if key is not None and key in existing:
        current = existing[key]
        merged = {**dict(current), **values}
        batch.updates.append((number, current["id"], {**values, "search_text": record_search_text(run.obj, merged)}))
        return
    whole = _validated(run, number, cells, partial=False)
    if whole is not None:
        batch.creates.append((number, whole))


async def _existing(
    connection: asyncpg.Connection, obj: ObjectDefinition, key_column: str, keys: list[Any]
) -> dict[Any, asyncpg.Record]:
    if not keys:
        return {}
    rows = await connection.fetch(
        f"SELECT * FROM {quote_ident(obj.table_name)} WHERE {quote_ident(key_column)} = ANY($1)"  # noqa: S608
        " AND deleted_at IS NULL ORDER BY created_at",
        keys,
    )
    found: dict[Any, asyncpg.Record] = {}
    for row in rows:
        found.setdefault(row[key_column], row)
    return found


_ACTOR_COLUMNS = tuple(f"{who}_{part}" for who in ("created_by", "updated_by") for part in ("source", "id", "name"))
_STAGING = "import_staging"
"""A temporary table (dropped at commit) that COPY fills: asyncpg's binary COPY cannot encode jsonb through the
pool's json codec, so jsonb columns are staged as text and cast on the way into the object's table."""


def _create_columns(obj: ObjectDefinition) -> list[str]:
    return ["id", *obj.columns(), "search_text", *_ACTOR_COLUMNS]


def _json_columns(obj: ObjectDefinition) -> set[str]:
    return {column.name for item in obj.fields for column in field_columns(item) if column.sql_type == "jsonb"}


async def _create_staging(connection: asyncpg.Connection, obj: ObjectDefinition) -> None:
    as_text = _json_columns(obj)
    selected = ", ".join(
        f"{quote_ident(name)}::text AS {quote_ident(name)}" if name in as_text else quote_ident(name)
        for name in _create_columns(obj)
    )
    await connection.execute(
        f"CREATE TEMPORARY TABLE {_STAGING} ON COMMIT DROP AS "  # noqa: S608 (quoted names)
        f"SELECT {selected} FROM {quote_ident(obj.table_name)} WITH NO DATA"
    )


def _create_record(run: _Run, names: Sequence[str], values: Mapping[str, Any]) -> tuple[Any, ...]:
    actor = dict(zip(_ACTOR_COLUMNS, [run.actor[part] for part in ("source", "id", "name")] * 2, strict=True))
    row = {**values, **actor, "id": uuid.uuid4(), "search_text": record_search_text(run.obj, values)}
    for name in run.json_columns:
        if row.get(name) is not None:
            row[name] = json.dumps(row[name], ensure_ascii=False)
    return tuple(row.get(name) for name in names)


async def _write(connection: asyncpg.Connection, run: _Run, batch: _Batch) -> None:
    """Write a batch; if the database refuses it (a unique value, say), find the rows it refuses one by one."""
    try:
        async with connection.transaction():
            await _write_creates(connection, run, batch.creates)
            await _write_updates(connection, run, batch.updates)
    except asyncpg.IntegrityConstraintViolationError:
        await _write_one_by_one(connection, run, batch)
        return
    run.created += len(batch.creates)
    run.updated += len(batch.updates)


async def _write_creates(
    connection: asyncpg.Connection, run: _Run, creates: Sequence[tuple[int, dict[str, Any]]]
) -> None:
    if not creates:
        return
    names = _create_columns(run.obj)
    records = [_create_record(run, names, values) for _, values in creates]
    await connection.execute(f"TRUNCATE {_STAGING}")
    await connection.copy_records_to_table(_STAGING, records=records, columns=names)
    selected = ", ".join(
        f"{quote_ident(name)}::jsonb" if name in run.json_columns else quote_ident(name) for name in names
    )
    await connection.execute(
        f"INSERT INTO {quote_ident(run.obj.table_name)} ({', '.join(quote_ident(name) for name in names)}) "  # noqa: S608
        f"SELECT {selected} FROM {_STAGING}"
    )


async def _write_updates(
    connection: asyncpg.Connection, run: _Run, updates: Sequence[tuple[int, uuid.UUID, dict[str, Any]]]
) -> None:
    by_columns: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
    for _, record_id, values in updates:
        names = (*values, "updated_by_source", "updated_by_id", "updated_by_name")
        actor = (run.actor["source"], run.actor["id"], run.actor["name"])
        by_columns.setdefault(names, []).append((record_id, *values.values(), *actor))
    for names, rows in by_columns.items():
        assignments = ", ".join(f"{quote_ident(name)} = ${n}" for n, name in enumerate(names, start=2))
        await connection.executemany(
            f"UPDATE {quote_ident(run.obj.table_name)} SET {assignments}, updated_at = now() WHERE id = $1",  # noqa: S608
            rows,
        )


async def _write_one_by_one(connection: asyncpg.Connection, run: _Run, batch: _Batch) -> None:
    for number, values in batch.creates:
        if await _try(connection, run, number, _write_creates(connection, run, [(number, values)])):
            run.created += 1
    for number, record_id, changes in batch.updates:
        if await _try(connection, run, number, _write_updates(connection, run, [(number, record_id, changes)])):
            run.updated += 1


async def _try(connection: asyncpg.Connection, run: _Run, number: int, write: Coroutine[Any, Any, None]) -> bool:
    try:
        async with connection.transaction():
            await write
    except asyncpg.IntegrityConstraintViolationError as error:
        run.fail(number, {_culprit(run.obj, error): "already used by another record"})
        return False
    return True


def _culprit(obj: ObjectDefinition, error: asyncpg.IntegrityConstraintViolationError) -> str:
    """The field a constraint violation is about, from the constraint's name (people_salla_id_key)."""
    constraint = getattr(error, "constraint_name", None) or ""
    for definition in obj.fields:
        if any(column in constraint for column in column_names(definition)):
            return definition.name
    return "record"


# --- looking before importing (the dashboard's import wizard) ---------------------------------------------------


@dataclass(frozen=True)
class CsvOutline:
    """What a file holds before any mapping: its header, how many rows, and the first few rows."""

    header: list[str]
    total_rows: int
    samples: list[list[str]]


def outline_csv(content: bytes, samples: int = 3) -> CsvOutline:
    """The header, row count and first rows of an upload; raises ImportRefused for the file problems
    `create_import` refuses whatever the mapping (encoding, no header, no rows, broken CSV, two columns of one
    name)."""
    text = decode_csv(content)
    header = _header(text)
    if len(set(header)) != len(header):
        raise ImportRefused("two columns of the header have the same name")
    total = _count_rows(text)
    if total < 1:
        raise ImportRefused("the file has a header but no rows")
    first = [cells for _, cells in _first_rows(text, samples)]
    return CsvOutline(header=header, total_rows=total, samples=first)


def _first_rows(text: str, count: int) -> list[tuple[int, list[str]]]:
    return list(itertools.islice((row for batch in _numbered_batches(text) for row in batch), count))


def dedupe_fields(obj: ObjectDefinition) -> list[FieldDefinition]:
    """The fields an import can match existing records on (``dedupe_field``)."""
    return [item for item in obj.fields if item.type in _DEDUPE_TYPES]


def check_plan(
    obj: ObjectDefinition,
    header: Sequence[str],
    mapping: Mapping[str, str | None] | None,
    mode: str,
    dedupe_field: str | None,
) -> dict[int, Target]:
    """The checks `create_import` makes of a mapping and its options; raises ImportRefused with the reason."""
    columns = plan_columns(obj, header, mapping)
    _check_options(obj, mode, dedupe_field)
    if dedupe_field is not None and not any(target.field.name == dedupe_field for target in columns.values()):
        raise ImportRefused(f"no column maps to the dedupe field {dedupe_field}")
    return columns


@dataclass(frozen=True)
class PreviewRow:
    """A row as the import job would treat it: stored as ``values`` (column values; None when it fails, with
    ``errors`` by field), as a new record or as an update of ``updates`` (a dedupe match)."""

    row: int
    cells: list[str]
    values: dict[str, Any] | None
    errors: dict[str, str]
    updates: uuid.UUID | None = None


async def preview_import(
    connection: asyncpg.Connection,
    obj: ObjectDefinition,
    content: bytes,
    *,
    mapping: Mapping[str, str | None] | None,
    dedupe_field: str | None = None,
    limit: int = 20,
) -> list[PreviewRow]:
    """The first ``limit`` rows converted, validated and (with a dedupe field) matched against live records by the
    same code as `run_import`, writing nothing. Only what the database itself refuses (a unique value another
    record already has) is left for the job to find."""
    text = decode_csv(content)
    header = _header(text)
    columns = check_plan(obj, header, mapping, "skip_bad_rows", dedupe_field)
    run = _Run(
        id=uuid.uuid4(),
        obj=obj,
        columns=columns,
        mode="skip_bad_rows",
        dedupe=None if dedupe_field is None else obj.field(dedupe_field),
        actor={"source": "import", "id": "", "name": None},
    )
    rows = _first_rows(text, limit)
    batch = await _prepare(connection, run, rows)
    created = dict(batch.creates)
    updated = {number: (record_id, values) for number, record_id, values in batch.updates}
    failed = {entry["row"]: entry["errors"] for entry in run.report}
    preview = []
    for number, cells in rows:
        if number in updated:
            record_id, values = updated[number]
            values = {key: value for key, value in values.items() if key != "search_text"}
            preview.append(PreviewRow(number, cells, values, {}, record_id))
        elif number in created:
            preview.append(PreviewRow(number, cells, created[number], {}))
        else:
            preview.append(PreviewRow(number, cells, None, failed.get(number, {"record": "not valid"})))
    return preview
