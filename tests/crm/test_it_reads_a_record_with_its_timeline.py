"""A record and its newest timeline events are read in one statement (a record page shows both): the events exactly
as stored, newest first, in UTC whatever the connection's time zone."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from app.crm import records
from app.crm.metadata import Catalogue
from app.crm.records import Actor, RecordNotFound

ALICE = Actor(source="user", id="u-alice", name="Alice")
NOON = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


async def _event(connection: asyncpg.Connection, record_id: str, at: datetime, kind: str) -> None:
    await connection.execute(
        "INSERT INTO timeline_events (object_name, record_id, happened_at, kind, diff)"
        " VALUES ('people', $1, $2, $3, $4)",
        uuid.UUID(record_id),
        at,
        kind,
        {"city": ["Riyadh", kind]},
    )


async def test_it_reads_the_events_as_stored_newest_first(crm: tuple[asyncpg.Connection, Catalogue]) -> None:
    connection, catalogue = crm
    people = catalogue.objects["people"]
    person = await records.create_record(connection, people, {"first_name": "Huda"}, ALICE)
    await connection.execute("DELETE FROM timeline_events")
    await _event(connection, person["id"], NOON, "updated")
    await _event(connection, person["id"], NOON + timedelta(microseconds=120), "tie-first")
    await _event(connection, person["id"], NOON + timedelta(microseconds=120), "tie-second")
    await _event(connection, person["id"], NOON - timedelta(days=400), "created")
    await connection.execute("SET TimeZone = 'Asia/Riyadh'")

    record, events = await records.get_record_and_timeline(connection, people, uuid.UUID(person["id"]))

    assert record == await records.get_record(connection, people, uuid.UUID(person["id"]))
    assert [(event["at"], event["kind"]) for event in events] == [
        ("2026-11-01T12:00:00.000120+00:00", "tie-second"),  # the later id first, as the API always had it
        ("2026-11-01T12:00:00.000120+00:00", "tie-first"),
        ("2026-11-01T12:00:00+00:00", "updated"),
        ("2025-09-27T12:00:00+00:00", "created"),
    ]
    assert events[0]["changes"] == {"city": ["Riyadh", "tie-second"]}
    assert events[0]["actor"] == {"source": "system", "id": None, "name": None}


async def test_it_shows_the_newest_events_only(crm: tuple[asyncpg.Connection, Catalogue]) -> None:
    connection, catalogue = crm
    people = catalogue.objects["people"]
    person = await records.create_record(connection, people, {"first_name": "Huda"}, ALICE)
    await connection.execute("DELETE FROM timeline_events")
    for minute in range(1, 6):
        await _event(connection, person["id"], NOON + timedelta(minutes=minute), f"update {minute}")

    _record, events = await records.get_record_and_timeline(connection, people, uuid.UUID(person["id"]), limit=3)

    assert [event["kind"] for event in events] == ["update 5", "update 4", "update 3"]


async def test_a_deleted_record_keeps_its_history_but_has_no_page(crm: tuple[asyncpg.Connection, Catalogue]) -> None:
    connection, catalogue = crm
    people = catalogue.objects["people"]
    person = await records.create_record(connection, people, {"first_name": "Huda"}, ALICE)
    await records.delete_record(connection, people, uuid.UUID(person["id"]), ALICE)

    with pytest.raises(RecordNotFound):
        await records.get_record_and_timeline(connection, people, uuid.UUID(person["id"]))
    assert [event["kind"] for event in await records.timeline(connection, people, uuid.UUID(person["id"]))] == [
        "deleted",
        "created",
    ]
    with pytest.raises(RecordNotFound):
        await records.timeline(connection, people, uuid.uuid4())
