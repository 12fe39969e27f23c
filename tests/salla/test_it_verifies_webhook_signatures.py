"""Only deliveries Salla really made are stored: HMAC-SHA256 signatures or the token, checked on the raw body."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY

from app.factory import create_app
from app.registry import database as registry
from app.settings import Settings
from tests.conftest import app_client

SECRET = "whsec-test-0123456789abcdef"


def salla_body(event: str = "customer.created", merchant: Any = 1234509876, **data: Any) -> bytes:
    return json.dumps(
        {"event": event, "merchant": merchant, "created_at": "2026-11-27 12:31:25", "data": data or {"id": 1}}
    ).encode()


def signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    """The headers Salla sends with the signature strategy."""
    return {
        "Content-Type": "application/json",
        "X-Salla-Signature": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
        "X-Salla-Security-Strategy": "Signature",
    }


def with_secret(settings: Settings, *, strategy: str = "signature", secret: str = SECRET) -> Settings:
    return dataclasses.replace(
        settings, salla=dataclasses.replace(settings.salla, webhook_secret=secret, webhook_strategy=strategy)
    )


async def stored_rows() -> list[dict[str, Any]]:
    async with registry.engine().pool.acquire() as connection:
        rows = await connection.fetch("SELECT event, merchant_id, body, status FROM salla_webhooks ORDER BY id")
    return [{**dict(row), "body": json.loads(row["body"])} for row in rows]


@pytest.fixture
async def signature_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(create_app(with_secret(settings))) as http:
        yield http


@pytest.fixture
async def token_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(create_app(with_secret(settings, strategy="token"))) as http:
        yield http


def _received(outcome: str) -> float:
    return REGISTRY.get_sample_value("wosool_salla_webhooks_received_total", {"outcome": outcome}) or 0.0


async def test_it_stores_a_correctly_signed_delivery_once(signature_client: httpx.AsyncClient) -> None:
    body = salla_body(merchant="987654321", first_name="Sara")
    stored_before = _received("stored")

    response = await signature_client.post("/webhooks/salla", content=body, headers=signed(body))

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "stored"
    rows = await stored_rows()
    assert len(rows) == 1
    assert rows[0]["event"] == "customer.created"
    assert rows[0]["merchant_id"] == 987654321  # sent as a string, stored as a number
    assert rows[0]["body"]["data"]["first_name"] == "Sara"
    assert rows[0]["status"] == "pending"
    assert _received("stored") == stored_before + 1
    assert 'wosool_salla_webhooks_received_total{outcome="stored"}' in (await signature_client.get("/metrics")).text


@pytest.mark.parametrize(
    ("case", "headers"),
    [
        ("missing signature", {"X-Salla-Security-Strategy": "Signature"}),
        ("another secret", signed(salla_body(), secret="not-the-secret")),
        ("garbage", {"X-Salla-Signature": "zz" * 32}),
        ("a token instead", {"Authorization": SECRET, "X-Salla-Security-Strategy": "Token"}),
        ("a bare token", {"Authorization": SECRET}),
        ("strategy header says token", {**signed(salla_body()), "X-Salla-Security-Strategy": "Token"}),
    ],
)
async def test_it_refuses_a_delivery_it_cannot_verify_and_stores_nothing(
    signature_client: httpx.AsyncClient, case: str, headers: dict[str, str]
) -> None:
    rejected_before = _received("rejected")

    response = await signature_client.post("/webhooks/salla", content=salla_body(), headers=headers)

    assert response.status_code == 401, case
    assert response.json()["detail"].startswith("invalid Salla webhook: ")
    assert SECRET not in response.text
    assert await stored_rows() == []
    assert _received("rejected") == rejected_before + 1


async def test_it_refuses_a_body_changed_after_signing(signature_client: httpx.AsyncClient) -> None:
    body = salla_body(total=100)
    headers = signed(body)

    response = await signature_client.post("/webhooks/salla", content=body.replace(b"100", b"999"), headers=headers)

    assert response.status_code == 401
    assert "does not match" in response.json()["detail"]
    assert await stored_rows() == []


async def test_it_checks_the_signature_before_parsing_the_body(signature_client: httpx.AsyncClient) -> None:
    response = await signature_client.post(
        "/webhooks/salla", content=b"{not json", headers={"X-Salla-Signature": "00" * 32}
    )

    assert response.status_code == 401  # not 400: an unverified body is never parsed


@pytest.mark.parametrize("authorization", [SECRET, f"Bearer {SECRET}", f"bearer {SECRET}"])
async def test_it_accepts_the_token_strategy(token_client: httpx.AsyncClient, authorization: str) -> None:
    body = salla_body(event="order.created", merchant=42)

    response = await token_client.post(
        "/webhooks/salla",
        content=body,
        headers={"Authorization": authorization, "X-Salla-Security-Strategy": "Token"},
    )

    assert response.status_code == 200, response.text
    assert [(row["event"], row["merchant_id"]) for row in await stored_rows()] == [("order.created", 42)]


@pytest.mark.parametrize(
    ("case", "headers"),
    [
        ("wrong token", {"Authorization": "Bearer not-the-secret"}),
        ("no token", {}),
        ("a signature instead", signed(salla_body())),
        ("empty bearer", {"Authorization": "Bearer "}),
    ],
)
async def test_it_refuses_a_wrong_token(token_client: httpx.AsyncClient, case: str, headers: dict[str, str]) -> None:
    response = await token_client.post("/webhooks/salla", content=salla_body(), headers=headers)

    assert response.status_code == 401, case
    assert await stored_rows() == []


async def test_it_refuses_everything_while_no_secret_is_configured(settings: Settings) -> None:
    body = salla_body()
    async with app_client(create_app(with_secret(settings, secret=""))) as http:
        unsigned = await http.post("/webhooks/salla", content=body)
        signed_with_empty = await http.post("/webhooks/salla", content=body, headers=signed(body, secret=""))
        rows = await stored_rows()

    assert unsigned.status_code == signed_with_empty.status_code == 503
    assert "SALLA_WEBHOOK_SECRET" in unsigned.json()["detail"]
    assert rows == []
