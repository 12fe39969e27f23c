from __future__ import annotations

from httpx import AsyncClient
from litestar import Litestar, get

from tests.conftest import app_client


async def test_a_missing_page_gets_an_html_page(client: AsyncClient) -> None:
    response = await client.get("/no-such-page", headers={"Accept": "text/html"})

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "<html" in response.text
    assert response.headers["x-request-id"] in response.text


async def test_a_missing_api_route_gets_json(client: AsyncClient) -> None:
    response = await client.get("/api/no-such-route", headers={"Accept": "text/html"})

    assert response.status_code == 404
    body = response.json()
    assert body["status_code"] == 404
    assert body["detail"]
    assert body["request_id"] == response.headers["x-request-id"]


async def test_an_unexpected_error_hides_its_internals_and_is_logged(app: Litestar, capsys) -> None:  # type: ignore[no-untyped-def]
    @get("/boom", include_in_schema=False)
    async def boom() -> str:
        raise RuntimeError("secret internal detail")

    @get("/api/boom", include_in_schema=False)
    async def api_boom() -> str:
        raise RuntimeError("secret internal detail")

    app.register(boom)
    app.register(api_boom)
    async with app_client(app) as client:
        page = await client.get("/boom")
        api = await client.get("/api/boom")

    assert page.status_code == 500
    assert api.status_code == 500
    assert "secret internal detail" not in page.text
    assert "secret internal detail" not in api.text
    assert api.json()["request_id"] == api.headers["x-request-id"]
    logged = capsys.readouterr().out
    assert "secret internal detail" in logged
    assert api.headers["x-request-id"] in logged


async def test_an_error_page_escapes_what_it_echoes(client: AsyncClient) -> None:
    response = await client.get("/language/<img src=x onerror=alert(1)>")

    assert response.status_code == 404
    assert "<img src=x" not in response.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in response.text
