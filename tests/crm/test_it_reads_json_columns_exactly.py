"""A tenant connection reads json and jsonb as the Python values json.loads gives for their text, whichever way they
arrive: as columns, or inside a row value (where PostgreSQL sends jsonb in its binary format)."""

from __future__ import annotations

import json

import asyncpg
import pytest

from app.crm.metadata import Catalogue

DOCUMENTS = [
    "[]",
    "{}",
    '["b@example.com", "c@x.sa"]',
    '{"stage": ["new", "won"], "amount": {"amount_minor": 150000, "currency": "SAR"}}',
    '"نورة"',
    "123456789012345678901234567890",
    "1.5e300",
    "1e400",  # beyond a float: PostgreSQL keeps it exactly, as an integer
    "1.5e-400",
    "null",
    "[true, false, null, 0.1]",
]


@pytest.mark.parametrize("document", DOCUMENTS)
async def test_it_reads_jsonb_as_json_loads_reads_its_text(
    crm: tuple[asyncpg.Connection, Catalogue], document: str
) -> None:
    connection, _catalogue = crm
    text = await connection.fetchval("SELECT $1::text::jsonb::text", document)

    as_column = await connection.fetchval("SELECT $1::text::jsonb", document)
    as_json = await connection.fetchval("SELECT $1::text::json", document)
    in_a_row = await connection.fetchval("SELECT ROW($1::text::jsonb, $1::text::json)", document)

    assert as_column == json.loads(text)
    assert as_json == json.loads(document)
    assert in_a_row == (json.loads(text), json.loads(document))
