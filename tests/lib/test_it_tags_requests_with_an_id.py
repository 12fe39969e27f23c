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

    lines = [line for line in capsys.readouterr().out.splitlines() if "request_id=trace-me-0001" in line]
    assert response.status_code == 200
    assert len(lines) == 1, lines  # one line per request, written when it has been answered
    for part in ("method=GET", "path=/ ", "status_code=200", "duration_ms="):
        assert part in lines[0], (part, lines)


async def test_it_logs_how_a_request_ended(client: AsyncClient, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    response = await client.get("/t/no-such-shop", headers={"X-Request-ID": "trace-me-0404"})

    lines = [line for line in capsys.readouterr().out.splitlines() if "request_id=trace-me-0404" in line]
    assert response.status_code != 200
    assert len(lines) == 1, lines
    assert f"status_code={response.status_code}" in lines[0], lines
    assert "path=/t/no-such-shop " in lines[0], lines


async def test_it_does_not_log_health_probes_or_static_files(
    client: AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    await client.get("/api/health", headers={"X-Request-ID": "trace-me-0003"})
    await client.get("/static/css/app.css", headers={"X-Request-ID": "trace-me-0004"})

    out = capsys.readouterr().out
    assert "trace-me-0003" not in out, out
    assert "trace-me-0004" not in out, out


async def test_it_logs_json_lines_in_production_style(settings, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    from app.factory import create_app
    from tests.conftest import app_client

    async with app_client(create_app(dataclasses.replace(settings, log_json=True))) as client:
        capsys.readouterr()
        await client.get("/", headers={"X-Request-ID": "trace-me-0002"})
        out = capsys.readouterr().out

    records = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert any(
        r.get("request_id") == "trace-me-0002" and r.get("status_code") == 200 and r.get("method") == "GET"
        for r in records
    ), out


async def test_it_tags_and_logs_a_path_no_route_matches(
    client: AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    response = await client.get("/wp-login.php", headers={"X-Request-ID": "scanner-0001"})

    lines = [line for line in capsys.readouterr().out.splitlines() if "request_id=scanner-0001" in line]
    assert response.status_code == 404
    assert response.headers["x-request-id"] == "scanner-0001"
    assert len(lines) == 1, lines
    assert "status_code=404" in lines[0], lines
