from __future__ import annotations

from litestar import Litestar, post

from tests.conftest import app_client


def _register_form(app: Litestar) -> None:
    @post("/form-for-test", include_in_schema=False)
    async def form() -> str:
        return "saved"

    @post("/api/endpoint-for-test", include_in_schema=False)
    async def api() -> str:
        return "saved"

    app.register(form)
    app.register(api)


async def test_a_form_post_without_the_token_is_refused(app: Litestar) -> None:
    _register_form(app)
    async with app_client(app) as client:
        response = await client.post("/form-for-test")

    assert response.status_code == 403


async def test_a_form_post_with_the_token_from_the_page_is_accepted(app: Litestar) -> None:
    _register_form(app)
    async with app_client(app) as client:
        landing = await client.get("/")
        token = client.cookies["csrftoken"]
        response = await client.post("/form-for-test", headers={"x-csrftoken": token})

    assert landing.status_code == 200
    assert response.status_code == 201
    assert response.text == "saved"


async def test_the_page_hands_htmx_the_token(client) -> None:  # type: ignore[no-untyped-def]
    landing = await client.get("/")

    assert "x-csrftoken" in landing.text


async def test_api_routes_do_not_use_csrf(app: Litestar) -> None:
    _register_form(app)
    async with app_client(app) as client:
        response = await client.post("/api/endpoint-for-test")

    assert response.status_code == 201
