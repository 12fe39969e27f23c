from __future__ import annotations

import json

import pytest
from httpx import AsyncClient


async def test_it_returns_a_fresh_request_id(client: AsyncClient) -> None:
    first = await client.get("/api/health")
    second = await client.get("/api/health")

    assert len(first.headers["x-request-id"]) == 32
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_it_keeps_a_sane_incoming_request_id(client: AsyncClient) -> None:
    response = await client.get("/api/health", headers={"X-Request-ID": "edge-proxy-1234abcd"})

    assert response.headers["x-request-id"] == "edge-proxy-1234abcd"


@pytest.mark.parametrize("bad", ["short", "x" * 65, "has spaces in it", "new\\nline-injection"])
async def test_it_replaces_an_unreasonable_incoming_request_id(client: AsyncClient, bad: str) -> None:
    response = await client.get("/api/health", headers={"X-Request-ID": bad})

    assert response.headers["x-request-id"] != bad
    assert len(response.headers["x-request-id"]) == 32


async def test_it_writes_the_request_id_on_every_log_line_of_the_request(
    client: AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    response = await client.get("/", headers={"X-Request-ID": "trace-me-0001"})

    lines = [line for line in capsys.readouterr().out.splitlines() if "HTTP Re" in line]
    assert response.status_code == 200
    assert len(lines) == 2, lines  # one for the request, one for the response
    assert all("request_id=trace-me-0001" in line for line in lines)


async def test_it_logs_json_lines_in_production_style(settings, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    from app.factory import create_app
    from tests.conftest import app_client

    async with app_client(create_app(dataclasses.replace(settings, log_json=True))) as client:
        capsys.readouterr()
        await client.get("/", headers={"X-Request-ID": "trace-me-0002"})
        out = capsys.readouterr().out

    records = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert any(r.get("request_id") == "trace-me-0002" and r.get("status_code") == 200 for r in records), out
