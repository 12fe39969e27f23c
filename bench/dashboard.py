"""Dashboard pages under load: the customers list, a record page and search with 100k customers, beside a bare
Litestar page rendering 50 static rows through a Jinja template, measured side by side in one run.

    python -m bench.dashboard [--people 100000] [--seconds 10] [--warmup 3] [--rounds 3] [--clients 32]
                              [--processes 2] [--workers 2] [--only bare,list,record,search] [--against CHECKOUT]
    python -m bench.dashboard --profile list [--requests 500]     # cProfile of one page, app in-process

Both apps run as real uvicorn servers with the settings of `wosool serve` (``--workers`` web processes, 2 by
default as docker-compose.yml deploys it, no access log, proxy headers, LOG_LEVEL=WARNING as in
bench/provisioning.py): the dashboard is `wosool serve` itself against a
throwaway registry and tenant (bench/tenant.py) seeded with COPY, signed in as a member of the tenant; the bare app
is `bare_app()` below. Load: ``--clients`` concurrent clients, each on a keep-alive connection of its own, spread
over ``--processes`` client processes, each target for ``--warmup`` seconds unmeasured, then ``--seconds``
measured; the four targets one after the other, and the whole sequence ``--rounds`` times. The clients speak
HTTP/1.1 through a minimal reader of their own (``--client lean``, the default: about 0.1 ms of CPU a request, a
tenth of httpx's), so that on a small machine the load takes as little as possible of the CPU the servers under
test need; ``--client httpx`` measures with httpx.AsyncClient instead. Prints requests/s,
p50 and p95 per target (median of the rounds), the throughput ratio to the bare page of the same round, and where
the machine's CPU went per request: the server's web processes, PostgreSQL (every postgres process on the machine)
and the load's own client processes.
Targets (docs/benchmarks.md): ratio >= 0.4 and p95 < 50 ms.

``--against CHECKOUT`` also serves another checkout of Wosool (say ``git worktree add /tmp/before HEAD~1``) on
the same tenant, and measures each dashboard page on both, one right after the other (the "before" one first in
every other round): a before/after comparison that the machine's load moves equally (rows marked "before"), and
after / before within each round at the end.
Uses WOSOOL_BENCH_DATABASE_URL / WOSOOL_BENCH_REDIS_URL and drops everything it made.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import platform
import pstats
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from jinja2 import DictLoader, Environment
from litestar import Litestar, get
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.template.config import TemplateConfig

from app.accounts import repository as accounts
from app.accounts.passwords import hash_password
from app.registry import database as registry
from app.settings import Settings
from app.tenancy import runtime
from app.tenancy.repository import tenant_by_slug
from bench.crm import FIRST, LAST, people_rows
from bench.tenant import REDIS_URL, bench_tenant

SLUG = "bench-dash"
MEMBER = "member@bench.example"
PASSWORD = "correct horse battery"  # noqa: S105 (a throwaway bench user)
TARGETS = ("bare", "list", "record", "search")
EXTRA_TARGETS = ("frame",)
"""``frame``: the import wizard's first page, a light authenticated page (session, access check, tenant connection,
catalogue, the dashboard's layout): the floor every dashboard page stands on."""
SEARCH_TERMS = ["sara", "أحمد", "haddad", "نورة", "omar", "الغامدي", "khalid", "فاطمة"]
RATIO_TARGET, P95_TARGET_MS = 0.4, 50.0
RAMP_SECONDS = 0.02
"""Each client of a process starts this much after the one before it (a ramp-up, within the warm-up). Opened all at
once, the 32 connections sometimes all went to one of a server's web processes (seen: 32 and 0, 31 and 1), which
then ran out of CPU while the other idled: a different server in every run. Opened 20 ms apart, they spread
(seen: 16/16, 14/18, 12/20)."""

# --- the bare page -------------------------------------------------------------------------------------------------

BARE_TEMPLATE = """<!doctype html>
<html lang="en" dir="ltr">
<head><meta charset="utf-8"><title>Customers</title></head>
<body>
<main>
<h1>Customers</h1>
<table>
<thead><tr><th>Name</th><th>E-mail</th><th>Phone</th><th>City</th><th>Country</th><th>Created</th></tr></thead>
<tbody>
{%- for row in rows %}
<tr><td><a href="/p/{{ row.id }}">{{ row.first }} {{ row.last }}</a></td><td>{{ row.email }}</td>
<td>{{ row.phone }}</td><td>{{ row.city }}</td><td>{{ row.country }}</td><td>{{ row.created }}</td></tr>
{%- endfor %}
</tbody>
</table>
</main>
</body>
</html>
"""
BARE_ROWS = [
    {
        "id": str(uuid.UUID(int=n)),
        "first": FIRST[n % len(FIRST)],
        "last": LAST[n % len(LAST)],
        "email": f"customer{n}@example.com",
        "phone": f"+9665{10_000_000 + n}",
        "city": "الرياض",
        "country": "SA",
        "created": "2026-11-27",
    }
    for n in range(50)
]


def bare_app() -> Litestar:
    """A bare Litestar app: one page rendering 50 static rows through a Jinja template (uvicorn factory)."""
    environment = Environment(loader=DictLoader({"rows.html": BARE_TEMPLATE}), autoescape=True)

    @get("/", cache=False)
    async def rows() -> Template:
        return Template("rows.html", context={"rows": BARE_ROWS})

    return Litestar(
        route_handlers=[rows],
        template_config=TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment)),
        debug=False,
    )


def serve_bare(port: int, workers: int) -> None:
    """The bare app served as `wosool serve` serves Wosool (app/cli.py)."""
    import uvicorn

    uvicorn.run(
        "bench.dashboard:bare_app",
        factory=True,
        host="127.0.0.1",
        port=port,
        workers=workers,
        access_log=False,
        proxy_headers=True,
        log_config=None,
    )


# --- load --------------------------------------------------------------------------------------------------------


@dataclass
class Load:
    """What one client process is asked to do."""

    base_url: str
    paths: list[str]
    headers: dict[str, str]
    cookies: dict[str, str]
    clients: int
    warmup: float
    seconds: float
    seed: int
    client: str = "lean"
    """``lean``: a minimal HTTP/1.1 client on asyncio streams (see `_connection`); ``httpx``: httpx.AsyncClient."""


@dataclass
class Result:
    latencies_ms: list[float] = field(default_factory=list)
    requests: int = 0
    all_requests: int = 0
    """Warm-up included (for the server's CPU time per request)."""
    errors: int = 0
    first_error: str = ""
    cpu_seconds: float = 0.0
    """The client process's own CPU time (user + system), warm-up included."""


async def _hammer(load: Load) -> Result:
    """``load.clients`` clients, each with its own keep-alive connection (with httpx, an AsyncClient of one
    connection: one shared pool for all of them costs more client CPU than the bare page costs the server)."""
    result = Result()
    rng = random.Random(load.seed)
    cpu_started = time.process_time()
    started = time.perf_counter()
    measure_from = started + load.warmup
    stop_at = measure_from + load.seconds

    # The signed-in member's cookies travel as a fixed header: httpx's cookie jar (the standard library's) cost every
    # client about 0.15 ms of CPU a request, on the cores the servers use.
    headers = {**load.headers, "Cookie": "; ".join(f"{name}={value}" for name, value in load.cookies.items())}
    if not load.cookies:
        del headers["Cookie"]

    async def one_client(number: int) -> None:
        await asyncio.sleep(number * RAMP_SECONDS)
        async with _connection(load, headers) as get:
            while True:
                path = rng.choice(load.paths)
                sent = time.perf_counter()
                if sent >= stop_at:
                    return
                try:
                    answer = str(await get(path))
                except (OSError, asyncio.IncompleteReadError, httpx.HTTPError) as error:
                    answer = f"{type(error).__name__}: {error}"
                done = time.perf_counter()
                result.all_requests += 1
                if sent < measure_from or done > stop_at:
                    continue
                result.requests += 1
                result.latencies_ms.append((done - sent) * 1000)
                if answer != "200":
                    result.errors += 1
                    result.first_error = result.first_error or f"{answer} {path}"

    await asyncio.gather(*(one_client(number) for number in range(load.clients)))
    result.cpu_seconds = time.process_time() - cpu_started
    return result


@asynccontextmanager
async def _connection(load: Load, headers: dict[str, str]) -> AsyncIterator[Callable[[str], Awaitable[int]]]:
    """One keep-alive connection to ``load.base_url``, as a function that GETs a path and returns the status."""
    if load.client == "httpx":
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(base_url=load.base_url, headers=headers, limits=limits, timeout=30) as client:

            async def get_with_httpx(path: str) -> int:
                return (await client.get(path)).status_code

            yield get_with_httpx
        return
    url = httpx.URL(load.base_url)
    lines = {"Host": f"{url.host}:{url.port}", **HTTPX_HEADERS, **headers}
    head = "".join(f"{name}: {value}\r\n" for name, value in lines.items()).encode()
    requests = {path: b"GET " + httpx.URL(path).raw_path + b" HTTP/1.1\r\n" + head + b"\r\n" for path in load.paths}
    opened: list[Any] = []  # the reader and writer while the connection is open

    async def get_lean(path: str) -> int:
        if not opened:
            opened.extend(await asyncio.open_connection(url.host, url.port))
        reader, writer = opened
        try:
            writer.write(requests[path])
            return await _lean_response(reader)
        except (OSError, asyncio.IncompleteReadError):  # the next request opens a new connection
            writer.close()
            opened.clear()
            raise

    try:
        yield get_lean
    finally:
        if opened:
            opened[1].close()


HTTPX_HEADERS = {"Accept": "*/*", "Accept-Encoding": "gzip, deflate", "Connection": "keep-alive"}
"""What httpx sends besides the host and cookie: the lean client asks the server for the same work."""


async def _lean_response(reader: asyncio.StreamReader) -> int:
    """Read one HTTP/1.1 response (Content-Length or chunked body, no trailers) and return its status. A request
    costs this client a tenth of what it costs httpx (h11's parsing, headers objects, events), CPU that on a
    2-core machine the servers under test would otherwise lose to their own load."""
    head = await reader.readuntil(b"\r\n\r\n")
    status, length, chunked = int(head[9:12]), -1, False
    for line in head.lower().split(b"\r\n")[1:]:
        if line.startswith(b"content-length:"):
            length = int(line[15:])
        elif line.startswith(b"transfer-encoding:") and b"chunked" in line:
            chunked = True
    if chunked:
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            await reader.readexactly(size + 2)
        await reader.readexactly(2)
    elif length >= 0:
        await reader.readexactly(length)
    else:
        raise RuntimeError(f"a response with neither Content-Length nor chunked: {head[:200]!r}")
    return status


def _run_load(load: Load) -> Result:
    return asyncio.run(_hammer(load))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] if ordered else float("nan")


@dataclass
class Figures:
    rps: float
    p50: float
    p95: float
    errors: int
    first_error: str
    cpu_ms: float
    """The server process's CPU time per request (user + system), warm-up included."""
    postgres_ms: float
    """Every PostgreSQL process's CPU time on this machine per request, warm-up included."""
    clients_ms: float
    """The load's client processes' CPU time per request, warm-up included."""


def _processes() -> tuple[dict[int, int], dict[int, int], set[int]]:
    """Every process's parent and CPU ticks so far (user + system), and which are PostgreSQL's. Linux /proc."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    postgres: set[int] = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            name, rest = stat.read_text().split("(", 1)[1].rsplit(")", 1)
        except (OSError, ValueError):  # the process ended while we looked
            continue
        fields, number = rest.split(), int(stat.parent.name)
        parents[number], ticks[number] = int(fields[1]), int(fields[11]) + int(fields[12])
        if name == "postgres":
            postgres.add(number)
    return parents, ticks, postgres


def postgres_seconds() -> dict[int, float]:
    """CPU time so far of each of this machine's PostgreSQL processes."""
    _parents, ticks, postgres = _processes()
    return {number: ticks[number] / os.sysconf("SC_CLK_TCK") for number in postgres}


def postgres_seconds_since(before: dict[int, float]) -> float:
    """CPU time PostgreSQL's processes used since ``before``: backends come and go, so process by process (one that
    ended in between takes its share with it)."""
    return sum(seconds - before.get(number, 0.0) for number, seconds in postgres_seconds().items())


def cpu_seconds(pid: int) -> float:
    """User + system CPU time so far of a server: the process and its living descendants (its uvicorn workers)."""
    parents, ticks, _postgres = _processes()
    tree, grown = {pid}, True
    while grown:
        children = {child for child, parent in parents.items() if parent in tree} - tree
        tree |= children
        grown = bool(children)
    return sum(ticks.get(number, 0) for number in tree) / os.sysconf("SC_CLK_TCK")


def measure(pool: ProcessPoolExecutor, processes: int, clients: int, template: Load, server: int) -> Figures:
    shares = [clients // processes + (1 if n < clients % processes else 0) for n in range(processes)]
    loads = [
        Load(**{**template.__dict__, "clients": share, "seed": template.seed * 100 + n})
        for n, share in enumerate(shares)
        if share
    ]
    cpu_before, postgres_before = cpu_seconds(server), postgres_seconds()
    results = list(pool.map(_run_load, loads))
    cpu, postgres = cpu_seconds(server) - cpu_before, postgres_seconds_since(postgres_before)
    latencies = [value for result in results for value in result.latencies_ms]
    errors = sum(result.errors for result in results)
    first = next((result.first_error for result in results if result.first_error), "")
    every = sum(result.all_requests for result in results)
    return Figures(
        len(latencies) / template.seconds,
        percentile(latencies, 0.5),
        percentile(latencies, 0.95),
        errors,
        first,
        cpu * 1000 / every if every else float("nan"),
        postgres * 1000 / every if every else float("nan"),
        sum(result.cpu_seconds for result in results) * 1000 / every if every else float("nan"),
    )


# --- setting up ----------------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{url}: the server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{url} did not answer within {timeout} s")


def _start(args: list[str], env: dict[str, str], log: Path, cwd: Path | None = None) -> subprocess.Popen[bytes]:
    with log.open("w") as out:
        return subprocess.Popen([sys.executable, *args], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=cwd)


async def seed_people(connection: asyncpg.Connection, count: int) -> list[uuid.UUID]:
    """People as the engine stores them: with no additional e-mails or phones, those columns hold ``[]`` (until the
    tenth pass they were left NULL here, which spared the list the JSON it reads for every real customer)."""
    rows = people_rows(count, random.Random(7))
    no_more = "ALTER email_additional SET DEFAULT '[]', ALTER phone_additional SET DEFAULT '[]'"
    await connection.execute(f"ALTER TABLE people {no_more}")  # binary COPY has no jsonb encoder for our codec
    await connection.copy_records_to_table(
        "people",
        records=rows,
        columns=["id", "created_at", "updated_at", "first_name", "last_name", "email_primary", "phone_primary",
                 "city", "country", "search_text"],
    )  # fmt: skip
    await connection.execute(
        "ALTER TABLE people ALTER email_additional DROP DEFAULT, ALTER phone_additional DROP DEFAULT"
    )
    await connection.execute("ANALYZE people")
    return [row[0] for row in rows]  # type: ignore[misc]


async def add_member() -> None:
    tenant = await tenant_by_slug(SLUG)
    assert tenant is not None
    user = await accounts.insert_user(email=MEMBER, name="Bench member", password_hash=hash_password(PASSWORD))
    await accounts.insert_membership(user_id=user.id, tenant_id=tenant.id, role="member")


def sign_in(base_url: str) -> dict[str, str]:
    """The member's cookies after the real log-in form (one sign-in shared by every client)."""
    with httpx.Client(base_url=base_url) as client:
        client.get("/login")
        signed = client.post(
            "/login",
            data={"email": MEMBER, "password": PASSWORD, "next": ""},
            headers={"x-csrftoken": client.cookies.get("csrftoken") or ""},
        )
        if signed.status_code not in (302, 303):
            raise SystemExit(f"sign-in failed: {signed.status_code} {signed.text[:300]}")
        return dict(client.cookies.items())


def targets(base: str, bare: str, record_ids: list[uuid.UUID]) -> dict[str, tuple[str, list[str], dict[str, str]]]:
    # What the palette's input sends (templates/crm/_palette.html): the results box is the target.
    htmx = {"HX-Request": "true", "HX-Target": "palette-results", "HX-Current-URL": f"{base}/t/{SLUG}/o/people"}
    return {
        "bare": (bare, ["/"], {}),
        "frame": (base, [f"/t/{SLUG}/import"], {}),
        "list": (base, [f"/t/{SLUG}/o/people"], {}),
        "record": (base, [f"/t/{SLUG}/o/people/{record_id}" for record_id in record_ids], {}),
        "search": (base, [f"/t/{SLUG}/search?q={term}" for term in SEARCH_TERMS], htmx),
    }


def machine_notes(postgres_version: str) -> str:
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        model = found.group(1).strip() if found else model
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        found = re.search(r"MemTotal:\s*(\d+) kB", meminfo.read_text())
        memory = f", {int(found.group(1)) // (1024 * 1024)} GB" if found else ""
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return (
        f"{os.cpu_count()} cores ({model}){memory}; Python {platform.python_version()}; PostgreSQL {postgres_version}"
        f"; load average before the run {load}"
    )


# --- the run -------------------------------------------------------------------------------------------------------


async def main(arguments: argparse.Namespace) -> None:
    chosen = [name for name in arguments.only.split(",") if name]
    async with bench_tenant(SLUG) as database:
        registry_url = str(registry.engine().config["dsn"])
        async with runtime.pools().connection(database) as connection:
            began = time.perf_counter()
            record_ids = random.Random(3).sample(await seed_people(connection, arguments.people), 1000)
            print(f"seeded {arguments.people} people in {time.perf_counter() - began:.1f} s", flush=True)
            postgres = str(await connection.fetchval("SHOW server_version"))
        await add_member()
        env = {**os.environ, "DATABASE_URL": registry_url, "REDIS_URL": REDIS_URL, "LOG_LEVEL": arguments.log_level,
               "WOSOOL_QUEUE": f"bench-{uuid.uuid4().hex[:6]}"}  # fmt: skip
        logs = Path(tempfile.mkdtemp(prefix="wosool-bench-"))
        web_port, bare_port = _free_port(), _free_port()
        workers = str(arguments.workers)
        base, bare = f"http://127.0.0.1:{web_port}", f"http://127.0.0.1:{bare_port}"
        servers = [
            _start(["-m", "app", "serve", "--port", str(web_port), "--workers", workers], env, logs / "web.log"),
            _start(
                ["-m", "bench.dashboard", "--serve-bare", str(bare_port), "--workers", workers], env, logs / "bare.log"
            ),
        ]
        urls = targets(base, bare, record_ids)
        try:
            _wait(f"{base}/api/health", servers[0], logs / "web.log")
            _wait(f"{bare}/", servers[1], logs / "bare.log")
            pids = {name: servers[1 if name == "bare" else 0].pid for name in (*TARGETS, *EXTRA_TARGETS)}
            if arguments.against:
                chosen = _serve_before(arguments.against, workers, env, logs, servers, urls, pids, chosen, record_ids)
            cookies = sign_in(base)
            report(arguments, urls, pids, chosen, cookies, machine_notes(postgres))
        finally:
            for server in servers:
                server.terminate()
            for server in servers:
                server.wait(timeout=30)


def _serve_before(
    checkout: Path,
    workers: str,
    env: dict[str, str],
    logs: Path,
    servers: list[subprocess.Popen[bytes]],
    urls: dict[str, tuple[str, list[str], dict[str, str]]],
    pids: dict[str, int],
    chosen: list[str],
    record_ids: list[uuid.UUID],
) -> list[str]:
    """Serve ``checkout`` too (same tenant, same Redis: the member's session works on both) and return the targets
    with each dashboard page followed by its "before" twin."""
    port = _free_port()
    before_env = {**env, "PYTHONPATH": str(checkout.resolve())}
    serve = ["-m", "app", "serve", "--port", str(port), "--workers", workers]
    servers.append(_start(serve, before_env, logs / "before.log", checkout))
    _wait(f"http://127.0.0.1:{port}/api/health", servers[-1], logs / "before.log")
    for name, target in targets(f"http://127.0.0.1:{port}", "", record_ids).items():
        urls[f"{name} (before)"] = target
        pids[f"{name} (before)"] = servers[-1].pid
    return [twin for name in chosen for twin in ([name] if name == "bare" else [name, f"{name} (before)"])]


def _in_round_order(names: list[str], number: int) -> list[str]:
    """The pages in the order round ``number`` measures them: a page's "(before)" twin goes first in every other
    round, so neither side of a paired comparison always follows the other."""
    ordered = list(names)
    if number % 2 == 0:
        for at in range(1, len(ordered)):
            if ordered[at] == f"{ordered[at - 1]} (before)":
                ordered[at - 1], ordered[at] = ordered[at], ordered[at - 1]
    return ordered


def report(
    arguments: argparse.Namespace,
    urls: dict[str, tuple[str, list[str], dict[str, str]]],
    pids: dict[str, int],
    chosen: list[str],
    cookies: dict[str, str],
    machine: str,
) -> None:
    available = []
    with httpx.Client(cookies=cookies) as client:
        for name in chosen:
            base, paths, headers = urls[name]
            status = client.get(base + paths[0], headers=headers).status_code
            if status == 200:
                available.append(name)
            else:
                print(f"skipping {name}: {paths[0]} answers {status}", flush=True)
    rounds: list[dict[str, Figures]] = []
    with ProcessPoolExecutor(max_workers=arguments.processes) as pool:
        for number in range(1, arguments.rounds + 1):
            figures = {}
            for name in _in_round_order(available, number):
                base, paths, headers = urls[name]
                load = Load(
                    base,
                    paths,
                    headers,
                    cookies,
                    arguments.clients,
                    arguments.warmup,
                    arguments.seconds,
                    number,
                    arguments.client,
                )
                figures[name] = measure(pool, arguments.processes, arguments.clients, load, pids[name])
                done = figures[name]
                print(
                    f"round {number} {name:>6}: {done.rps:8.0f} req/s  p50 {done.p50:6.1f} ms  p95 {done.p95:6.1f} ms"
                    f"  CPU ms/request: server {done.cpu_ms:5.2f} PostgreSQL {done.postgres_ms:5.2f}"
                    f" clients {done.clients_ms:5.2f}"
                    + (f"  errors {done.errors} (first: {done.first_error})" if done.errors else ""),
                    flush=True,
                )
            rounds.append(figures)
    _table(arguments, available, rounds, machine)
    print("load average after the run: " + ", ".join(f"{value:.1f}" for value in os.getloadavg()))


def _table(arguments: argparse.Namespace, names: list[str], rounds: list[dict[str, Figures]], machine: str) -> None:
    print()
    print(f"Machine: {machine}")
    print(
        f"{arguments.clients} concurrent keep-alive clients ({arguments.client}) in {arguments.processes} processes, "
        f"{arguments.workers} web processes per server, {arguments.warmup:g} s "
        f"warm-up + {arguments.seconds:g} s per target, {arguments.rounds} rounds; medians of the rounds"
    )
    print(
        "| page | requests/s | p50 | p95 | clients / requests/s | ratio to the bare page | web CPU per request "
        "| PostgreSQL / clients CPU per request | targets (ratio >= 0.4, p95 < 50 ms) |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    labels = {
        "bare": "bare Litestar page, 50 static rows (Jinja)",
        "list": f"customers list `/t/{{slug}}/o/people` ({arguments.people:,} people)",
        "record": "record page `/t/{slug}/o/people/{id}` (random ids)",
        "search": "search `/t/{slug}/search?q=...` (htmx fragment)",
        "frame": "light dashboard page `/t/{slug}/import` (the frame's floor)",
    }
    for name in names:
        page = name.removesuffix(" (before)")
        label = labels[page] + (", **before**" if name != page else "")
        rps = statistics.median(figures[name].rps for figures in rounds)
        p50 = statistics.median(figures[name].p50 for figures in rounds)
        p95 = statistics.median(figures[name].p95 for figures in rounds)
        ratios = [figures[name].rps / figures["bare"].rps for figures in rounds if "bare" in figures]
        ratio = statistics.median(ratios) if ratios else float("nan")
        cpu = statistics.median(figures[name].cpu_ms for figures in rounds)
        postgres = statistics.median(figures[name].postgres_ms for figures in rounds)
        clients = statistics.median(figures[name].clients_ms for figures in rounds)
        verdict = "" if name == "bare" else ("met" if ratio >= RATIO_TARGET and p95 < P95_TARGET_MS else "MISSED")
        waiting = arguments.clients / rps * 1000 if rps else float("nan")  # Little's law: the mean latency
        print(
            f"| {label} | {rps:,.0f} | {p50:.1f} ms | {p95:.1f} ms | {waiting:.1f} ms | {ratio:.2f}x "
            f"| {cpu:.2f} ms | {postgres:.2f} / {clients:.2f} ms | {verdict} |"
        )
    _paired(names, rounds)
    errors = sum(figures[name].errors for figures in rounds for name in names)
    print(f"non-200 answers: {errors}")


def _paired(names: list[str], rounds: list[dict[str, Figures]]) -> None:
    """With ``--against``: after / before within each round, the comparison the machine's drift moves least."""
    pages = [name for name in names if f"{name} (before)" in names]
    if pages:
        print("after / before, round by round (requests/s; web CPU per request):")
    for name in pages:
        before = f"{name} (before)"
        speed = [figures[name].rps / figures[before].rps for figures in rounds]
        cpu = [figures[name].cpu_ms / figures[before].cpu_ms for figures in rounds]
        print(
            f"  {name}: {' '.join(f'{value:.2f}' for value in speed)} (median {statistics.median(speed):.2f}); "
            f"CPU {' '.join(f'{value:.2f}' for value in cpu)} (median {statistics.median(cpu):.2f})"
        )


# --- profiling one page in-process -----------------------------------------------------------------------------------


async def profile(arguments: argparse.Namespace) -> None:
    """cProfile of ``--requests`` sequential requests to one page, the app in this process (httpx ASGI transport):
    what dominates a page's CPU time."""
    from app.factory import create_app

    async with bench_tenant(SLUG) as database:
        registry_url = str(registry.engine().config["dsn"])
        async with runtime.pools().connection(database) as connection:
            record_ids = random.Random(3).sample(await seed_people(connection, arguments.people), 1000)
        await add_member()
        await runtime.close_pools()
        settings = Settings(database_url=registry_url, redis_url=REDIS_URL, log_level="WARNING")
        app = create_app(settings)
        async with app.lifespan():
            transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                await client.get("/login")
                await client.post(
                    "/login",
                    data={"email": MEMBER, "password": PASSWORD, "next": ""},
                    headers={"x-csrftoken": client.cookies.get("csrftoken") or ""},
                )
                _base, paths, headers = targets("", "", record_ids)[arguments.profile]
                rng = random.Random(5)

                async def run(count: int) -> float:
                    began = time.perf_counter()
                    for _ in range(count):
                        response = await client.get(rng.choice(paths), headers=headers)
                        assert response.status_code == 200, (response.status_code, response.text[:300])
                    return (time.perf_counter() - began) * 1000 / count

                await run(50)
                plain = await run(arguments.requests)
                profiler = cProfile.Profile()
                profiler.enable()
                profiled = await run(arguments.requests)
                profiler.disable()
    print(f"{arguments.profile}: {plain:.2f} ms per request in-process, sequential ({profiled:.2f} ms under cProfile)")
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(25)
    print(out.getvalue())


def _arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--processes", type=int, default=2, help="client processes sharing the clients")
    parser.add_argument("--workers", type=int, default=2, help="web processes of each server (docker-compose: 2)")
    parser.add_argument("--only", default=",".join(TARGETS), help="comma list of bare,list,record,search,frame")
    parser.add_argument("--client", choices=["lean", "httpx"], default="lean", help="the load's HTTP client")
    parser.add_argument("--log-level", default="WARNING")
    parser.add_argument("--against", type=Path, metavar="CHECKOUT", help="also serve this checkout: before/after")
    parser.add_argument("--profile", choices=[*TARGETS[1:], *EXTRA_TARGETS], help="profile one page in-process instead")
    parser.add_argument("--requests", type=int, default=500, help="requests under the profiler")
    parser.add_argument("--serve-bare", type=int, metavar="PORT", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def run(argv: list[str] | None = None) -> None:
    arguments = _arguments(argv)
    if arguments.serve_bare:
        serve_bare(arguments.serve_bare, arguments.workers)
        return
    work: Callable[[argparse.Namespace], Any] = profile if arguments.profile else main
    asyncio.run(work(arguments))


if __name__ == "__main__":
    run()
