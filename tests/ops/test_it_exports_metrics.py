from __future__ import annotations

from httpx import AsyncClient

from tests.conftest import World
from tests.people import sign_in


async def test_it_exports_request_and_tenant_pool_metrics(client: AsyncClient, world: World) -> None:
    await sign_in(client, "alice@example.com")
    assert (await client.get("/t/acme/")).status_code == 200  # reads the tenant's database through its pool

    metrics = (await client.get("/metrics")).text

    assert "wosool_requests_total" in metrics
    assert "wosool_tenant_pool_open_connections 1.0" in metrics
    assert "wosool_tenant_pool_misses_total 1.0" in metrics
    assert "wosool_tenant_pool_open_pools 1.0" in metrics
