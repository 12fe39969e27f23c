from __future__ import annotations

from httpx import AsyncClient

from app.accounts import memberships
from app.lib.remembered_sessions import remembered_sessions
from tests.conftest import World, eventually
from tests.people import sign_in


async def test_it_exports_request_and_tenant_pool_metrics(client: AsyncClient, world: World) -> None:
    await sign_in(client, "alice@example.com")
    assert (await client.get("/t/acme/")).status_code == 200  # reads the tenant's database through its pool

    metrics = (await client.get("/metrics")).text

    assert "wosool_requests_total" in metrics
    assert "wosool_tenant_pool_open_connections 1.0" in metrics
    assert "wosool_tenant_pool_misses_total 1.0" in metrics
    assert "wosool_tenant_pool_open_pools 1.0" in metrics


async def test_it_tells_whether_it_hears_the_notices_it_remembers_by(client: AsyncClient, world: World) -> None:
    async def hearing() -> bool:
        return memberships.is_listening() and remembered_sessions.listening

    await eventually(hearing)
    metrics = (await client.get("/metrics")).text

    assert "wosool_membership_notices_listening 1.0" in metrics
    assert "wosool_session_notices_listening 1.0" in metrics
