"""Fixtures: real PostgreSQL and Redis, a fresh registry database per test, the app, a browser."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher
from litestar import Litestar
from playwright.async_api import Browser, Page, async_playwright
from redis.asyncio import Redis
from saq import Queue

from app.accounts import passwords
from app.factory import create_app
from app.registry import database as registry
from app.settings import PROJECT_ROOT, Settings
from app.tenancy import cache as tenant_cache
from app.tenancy import provisioning, runtime
from app.tenancy.migrate import migrate_everything
from app.tenancy.repository import TenantRecord
from tasks.queue import create_queue
from tests.browser import CHROMIUM_FLAGS, PageProblems, chromium_path, watch_page
from tests.people import add_member, register_organization
from tests.processes import Spares
from tests.services import (
    DatabaseJanitor,
    RegistryStock,
    TestServers,
    create_database,
    drop_database,
    start_test_servers,
    unique_name,
)

ARTIFACTS = PROJECT_ROOT / "test-artifacts"


# Cheap argon2id costs in this process (each test signs people up and in); processes the tests start
# (`wosool serve`, `wosool worker`) keep the real costs, and hashes of either kind verify everywhere.
passwords.use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


# What a test costs, roughly, by what it sets up (seconds on a quiet machine).
_SLOW_TEST_COST = 10.0
_FIXTURE_COSTS = {"live_server": 4.0, "live_worker": 2.0, "browser": 1.0, "world": 0.4, "settings": 0.2}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Test files in the order pytest-xdist should hand them out (``--dist loadfile``): the costly ones first, so
    the workers end on short files and finish together; files that drive a browser alternating with files that
    do not, so two browsers (each with a server, a worker and Chromium) seldom compete for the two cores."""
    files: dict[Path, list[pytest.Item]] = {}
    for item in items:
        files.setdefault(item.path, []).append(item)

    def cost(path: Path) -> float:
        return sum(_expected_cost(item) for item in files[path])

    def drives_a_browser(path: Path) -> bool:
        return any("browser" in getattr(item, "fixturenames", ()) for item in files[path])

    by_cost = sorted(files, key=cost, reverse=True)
    browsing = [path for path in by_cost if drives_a_browser(path)]
    others = [path for path in by_cost if not drives_a_browser(path)]
    order = [path for pair in itertools.zip_longest(browsing, others) for path in pair if path is not None]
    items[:] = [item for path in order for item in files[path]]


def _expected_cost(item: pytest.Item) -> float:
    if item.get_closest_marker("slow"):
        return _SLOW_TEST_COST
    fixtures = getattr(item, "fixturenames", ())
    return sum(cost for name, cost in _FIXTURE_COSTS.items() if name in fixtures) or 0.01


@pytest.fixture(scope="session")
def servers() -> Iterator[TestServers]:
    # Not under pytest's tmp_path: pytest deletes old base temp folders when another session starts, which
    # would pull the data folder from under a running embedded server.
    data_dir = Path(tempfile.mkdtemp(prefix="wosool-test-servers-"))
    found = start_test_servers(data_dir)
    yield found
    if found.embedded is not None:
        found.embedded.stop()
    shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def janitor(servers: TestServers) -> Iterator[DatabaseJanitor]:
    """Drops the databases of finished tests in the background (see `DatabaseJanitor`)."""
    found = DatabaseJanitor(servers.server_url)
    yield found
    problems = found.close()
    if problems:
        pytest.fail("could not drop the databases of finished tests:\n  " + "\n  ".join(problems))


@pytest.fixture(scope="session")
async def registry_template(servers: TestServers) -> AsyncIterator[str]:
    """A registry database migrated once, with its server's tenant template database; each test gets a
    copy of the registry (CREATE DATABASE ... TEMPLATE) and shares the tenant template."""
    name = unique_name("wosool_test_template")
    await create_database(servers.server_url, name)
    registry.bind(servers.database_url(name))
    await migrate_everything(Settings(database_url=servers.database_url(name)))
    yield name
    await drop_database(servers.server_url, name)
    await drop_database(servers.server_url, f"{name}_template")


@pytest.fixture(scope="session")
def registry_stock(servers: TestServers, registry_template: str, janitor: DatabaseJanitor) -> Iterator[RegistryStock]:
    """Copies of the registry template made ahead of the tests that take them."""
    stock = RegistryStock(servers.server_url, registry_template)
    yield stock
    for name in stock.close():
        janitor.drop_later(name)


@pytest.fixture
async def settings(
    servers: TestServers,
    registry_stock: RegistryStock,
    janitor: DatabaseJanitor,
    tmp_path: Path,
) -> AsyncIterator[Settings]:
    """Settings for one test: its own registry database and an empty Redis database."""
    name = registry_stock.take()
    redis = Redis.from_url(servers.redis_url)
    await redis.flushdb()
    await redis.aclose()
    tenant_cache.forget_everything_here()
    test_settings = Settings(
        database_url=servers.database_url(name),
        redis_url=servers.redis_url,
        data_dir=tmp_path / "data",
        queue_name=unique_name("test"),
    )
    registry.bind(test_settings.database_url)
    yield test_settings
    await registry.close_pool(everyone=True)
    await runtime.close_pools()
    janitor.drop_later(name)  # with its tenants' databases and roles


@pytest.fixture
async def redis(settings: Settings) -> AsyncIterator[Redis]:
    client = Redis.from_url(settings.redis_url)
    yield client
    await client.aclose()


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings)


@contextlib.asynccontextmanager
async def app_client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to ``app`` in this test's event loop (Litestar's own test clients run the
    app in a second thread and loop, where the registry pool would be bound to the wrong loop)."""
    async with _lifespan(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


@contextlib.asynccontextmanager
async def _lifespan(app: Litestar) -> AsyncIterator[None]:
    """Run the app's startup and shutdown in one task of their own: anyio refuses a lifespan entered in
    one task (a fixture's setup) and left in another (its teardown)."""
    started, stop = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with app.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(hold())
    waiter = asyncio.create_task(started.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    if task.done():
        task.result()  # startup failed: raise its error here
    try:
        yield
    finally:
        stop.set()
        await task


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(app) as http:
        yield http


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wosool_env(**overrides: str) -> dict[str, str]:
    """The environment for a ``wosool`` subprocess: this one, minus anything that would point it elsewhere."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "WOSOOL_ENV"}}
    env.update(overrides)
    return env


def wait_for(
    url: str,
    *,
    status: int = 200,
    timeout: float = 60.0,
    process: subprocess.Popen[bytes] | None = None,
    log_path: Path | None = None,
) -> None:
    """Poll ``url`` until it answers ``status``; fail early, with the process's output, if it dies."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            output = log_path.read_text() if log_path else ""
            raise AssertionError(f"process exited with {process.returncode} before {url} answered:\n{output}")
        try:
            response = httpx.get(url, timeout=2)
            if response.status_code == status:
                return
            last = f"{response.status_code}: {response.text[:500]}"
        except httpx.HTTPError as error:
            last = repr(error)
        time.sleep(0.05)
    raise AssertionError(f"{url} did not answer {status} within {timeout} s; last: {last}")


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 5.0) -> None:
    """Wait until ``await check()`` is true, asking every 5 ms; fail the test after ``within`` seconds."""
    began = time.monotonic()
    while time.monotonic() - began < within:
        if await check():
            return
        await asyncio.sleep(0.005)
    pytest.fail(f"not true within {within} s")


@pytest.fixture(scope="session")
def spares() -> Iterator[Spares]:
    """Wosool processes importing a test ahead (see tests/processes.py)."""
    found = Spares(env=wosool_env())
    yield found
    found.close()


def _start(spares: Spares, settings: Settings, log_path: Path, *args: str) -> subprocess.Popen[bytes]:
    """``python -m app <args>`` against this test's databases and queue."""
    env = wosool_env(DATABASE_URL=settings.database_url, REDIS_URL=settings.redis_url, WOSOOL_QUEUE=settings.queue_name)
    return spares.run(list(args), env, log_path)


@pytest.fixture
def live_server(
    settings: Settings, spares: Spares, janitor: DatabaseJanitor, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[str]:
    """``wosool serve`` as a real process on a free port, against this test's databases."""
    port = free_port()
    log_path = tmp_path / "serve.log"
    process = _start(spares, settings, log_path, "serve", "--port", str(port))
    url = f"http://127.0.0.1:{port}"
    try:
        if "world" in request.fixturenames:
            request.getfixturevalue("world")  # while the server starts
        wait_for(f"{url}/api/health", process=process, log_path=log_path, timeout=30)
        yield url
    finally:
        process.terminate()
        janitor.drop_after_exit(process)
        spares.refill()


@pytest.fixture
def live_worker(
    settings: Settings, spares: Spares, janitor: DatabaseJanitor, tmp_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """``wosool worker`` as a real process, against this test's databases and queue."""
    process = _start(spares, settings, tmp_path / "worker.log", "worker", "--concurrency", "4")
    try:
        yield process
    finally:
        process.terminate()  # SAQ takes its 2 s grace period to stop; nobody needs to wait for it here
        janitor.drop_after_exit(process)
        spares.refill()


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    executable = chromium_path()
    if not executable.exists():
        reason = (
            f"Chromium not found at {executable}: install it (apt-get install chromium) "
            "or set WOSOOL_CHROMIUM. Browser tests are NOT running."
        )
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(executable), args=CHROMIUM_FLAGS)
        yield launched
        await launched.close()


@pytest.fixture
async def page(browser: Browser, request: pytest.FixtureRequest) -> AsyncIterator[Page]:
    """A fresh browser page; the test fails if the page logs a console error or a request fails."""
    context = await browser.new_context(locale="en-US")
    new_page = await context.new_page()
    problems = watch_page(new_page)
    new_page.problems = problems  # type: ignore[attr-defined]
    yield new_page
    ARTIFACTS.mkdir(exist_ok=True)
    await new_page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    await context.close()
    if problems.messages:
        pytest.fail("the page had problems:\n  " + "\n  ".join(problems.messages))


def page_problems(page: Page) -> PageProblems:
    return page.problems  # type: ignore[attr-defined,no-any-return]


@pytest.fixture
async def queue(settings: Settings) -> AsyncIterator[Queue]:
    job_queue = create_queue(settings)
    yield job_queue
    await job_queue.disconnect()


@dataclass(frozen=True)
class World:
    """alice owns acme, bob is a member of acme, charlie owns noor."""

    acme: TenantRecord
    noor: TenantRecord


@pytest.fixture
async def world(settings: Settings, redis: Redis, queue: Queue) -> World:
    """Registered one after the other (rows in the order alice, bob, charlie; acme, noor), then both tenants
    provisioned at once: most of provisioning is waiting for PostgreSQL to copy the template database."""
    acme = await register_organization(settings, redis, queue, slug="acme", owner="alice@example.com")
    await add_member(acme, "bob@example.com")
    noor = await register_organization(settings, redis, queue, slug="noor", owner="charlie@example.com")
    acme, noor = await asyncio.gather(
        provisioning.provision(acme.id, settings, redis), provisioning.provision(noor.id, settings, redis)
    )
    return World(acme=acme, noor=noor)
