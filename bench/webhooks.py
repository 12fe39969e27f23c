"""Salla webhook intake under load: signed deliveries against `wosool serve`, real PostgreSQL and Redis.

    python -m bench.webhooks [--seconds 10] [--warmup 2] [--rounds 3] [--connections 32] [--rate 200]
                             [--processes 1]

One web process exactly as `wosool serve` runs it (uvicorn, one worker, no access log, LOG_LEVEL=WARNING as the
other benchmarks) against a throwaway registry database, with SALLA_WEBHOOK_SECRET set and no SAQ worker (the
intake is measured, not the apply job; enqueued jobs are deleted after each round). Every request is a distinct,
correctly signed ~1.6 KB ``order.updated`` envelope, so each one is verified, parsed, INSERTed (a durable commit)
and enqueued.

floor: the same load on ``GET /api/health`` of the same server (middleware and HTTP, no work): on a shared machine
    the ratio of (a) to the floor says more than either figure alone;
(a) throughput: ``--connections`` keep-alive connections send back to back for ``--seconds`` (after ``--warmup``);
(b) latency: an open-loop schedule of ``--rate`` requests per second for ``--seconds``, each latency measured from
    its scheduled send time (a slow answer delays no later request's clock: no coordinated omission), connections
    opened as needed.

The load generator is a minimal HTTP/1.1 client on asyncio streams (about 20 µs of CPU per request, a tenth of
httpx's), in ``--processes`` processes. Each round runs the floor, (a), then (b); prints each round and the
medians. After the run it checks that the inbox holds exactly one row per delivery answered ``stored``. Targets
(docs/benchmarks.md): >= 1,000 deliveries/s and p99 < 50 ms at 200/s. Uses WOSOOL_BENCH_DATABASE_URL /
WOSOOL_BENCH_REDIS_URL and drops everything it made.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import os
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from redis.asyncio import Redis

from app.lib.dsn import with_database
from app.registry import database as registry
from bench.dashboard import _free_port, _start, _wait, cpu_seconds, machine_notes, percentile
from bench.tenant import REDIS_URL, SERVER_URL

SECRET = "bench-webhook-secret-0123456789"  # noqa: S105 (a throwaway bench secret)
THROUGHPUT_TARGET, P99_TARGET_MS = 1000.0, 50.0
_KEEP_ALIVE_SECONDS = 4.0
"""Reuse an idle connection only this long (uvicorn's keep-alive timeout is 5 s)."""

# A realistic order.updated envelope (Salla's shape, trimmed); __ID__ makes every delivery distinct.
BODY_TEMPLATE = (
    '{"event":"order.updated","merchant":1234509876,"created_at":"2026-11-27 12:31:25","data":{"id":__ID__,'
    '"reference_id":__ID__,"date":{"date":"2026-11-27 12:31:25.000000","timezone_type":3,"timezone":"Asia/Riyadh"},'
    '"status":{"id":566146469,"name":"بإنتظار المراجعة","slug":"under_review","customized":{"id":1298199463,'
    '"name":"بإنتظار المراجعة"}},"payment_method":"mada","currency":"SAR","amounts":{"sub_total":{"amount":370,'
    '"currency":"SAR"},"shipping_cost":{"amount":25,"currency":"SAR"},"tax":{"percent":"15.00","amount":{"amount":'
    '55.5,"currency":"SAR"}},"discounts":[],"total":{"amount":450.5,"currency":"SAR"}},"items":[{"id":11,'
    '"name":"قميص قطني","sku":"SH-001","quantity":2,"currency":"SAR","amounts":{"price_without_tax":{"amount":100,'
    '"currency":"SAR"},"total":{"amount":230,"currency":"SAR"}},"product":{"id":1911645512,"name":"قميص قطني",'
    '"sku":"SH-001","price":{"amount":100,"currency":"SAR"}}},{"id":12,"name":"Leather wallet","sku":"WL-77",'
    '"quantity":1,"currency":"SAR","amounts":{"price_without_tax":{"amount":170,"currency":"SAR"},"total":{"amount":'
    '195.5,"currency":"SAR"}},"product":{"id":1911645599,"name":"Leather wallet","sku":"WL-77","price":{"amount":170,'
    '"currency":"SAR"}}}],"customer":{"id":939465465,"first_name":"سارة","last_name":"Al-Qahtani","mobile":555123456,'
    '"mobile_code":"+966","email":"sara@example.com","city":"الرياض","country":"SA","currency":"SAR"}}}'
)


def delivery(host: str, port: int, number: int) -> bytes:
    """One complete, correctly signed HTTP/1.1 request for delivery ``number``."""
    body = BODY_TEMPLATE.replace("__ID__", str(number)).encode()
    signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    head = (
        f"POST /webhooks/salla HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"X-Salla-Signature: {signature}\r\nX-Salla-Security-Strategy: Signature\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


class Connection:
    """One keep-alive HTTP/1.1 connection that sends a prepared request and reads the answer's status."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        return cls(*await asyncio.open_connection(host, port))

    async def send(self, request: bytes) -> tuple[int, bytes]:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        return int(head[9:12]), await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


@dataclass
class Load:
    """What one load process is asked to do."""

    host: str
    port: int
    mode: str
    """``throughput`` (closed loop, back to back), ``latency`` (open loop at ``rate``) or ``floor`` (closed loop on
    ``/api/health``)."""
    connections: int
    rate: float
    warmup: float
    seconds: float
    first_number: int


@dataclass
class Result:
    latencies_ms: list[float] = field(default_factory=list)
    requests: int = 0
    all_requests: int = 0
    stored: int = 0
    errors: int = 0
    first_error: str = ""

    def note(self, status: int, answer: bytes) -> None:
        self.all_requests += 1
        if status != 200:
            self.errors += 1
            self.first_error = self.first_error or f"{status} {answer[:200]!r}"
        elif b'"stored"' in answer:
            self.stored += 1


def health_check(host: str, port: int, number: int) -> bytes:
    """``GET /api/health``: the same server, middleware and HTTP path with no work behind it (the floor)."""
    return f"GET /api/health HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()


async def _throughput(load: Load) -> Result:
    result = Result()
    numbers = iter(range(load.first_number, load.first_number + 10**8))
    request = health_check if load.mode == "floor" else delivery
    measure_from = time.perf_counter() + load.warmup
    stop_at = measure_from + load.seconds

    async def one_connection() -> None:
        connection = await Connection.open(load.host, load.port)
        try:
            while (sent := time.perf_counter()) < stop_at:
                status, answer = await connection.send(request(load.host, load.port, next(numbers)))
                done = time.perf_counter()
                result.note(status, answer)
                if sent >= measure_from and done <= stop_at:
                    result.requests += 1
                    result.latencies_ms.append((done - sent) * 1000)
        finally:
            connection.close()

    await asyncio.gather(*(one_connection() for _ in range(load.connections)))
    return result


async def _open_loop(load: Load) -> Result:
    result = Result()
    idle: list[tuple[Connection, float]] = []
    opened: list[Connection] = []
    count = int(load.rate * load.seconds)
    requests = [delivery(load.host, load.port, load.first_number + n) for n in range(count)]

    async def one_request(request: bytes, scheduled: float) -> None:
        connection = None
        while idle:
            candidate, last_used = idle.pop()
            if time.perf_counter() - last_used < _KEEP_ALIVE_SECONDS:
                connection = candidate
                break
            candidate.close()  # uvicorn closes connections idle for 5 s
        if connection is None:
            connection = await Connection.open(load.host, load.port)
            opened.append(connection)
        status, answer = await connection.send(request)
        result.latencies_ms.append((time.perf_counter() - scheduled) * 1000)
        result.requests += 1
        result.note(status, answer)
        idle.append((connection, time.perf_counter()))

    for _ in range(min(load.connections, 16)):  # warm connections; more open only if answers fall behind
        connection = await Connection.open(load.host, load.port)
        opened.append(connection)
        idle.append((connection, time.perf_counter()))
    tasks = []
    started = time.perf_counter() + 0.05
    for n, request in enumerate(requests):
        scheduled = started + n / load.rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one_request(request, scheduled)))
    await asyncio.gather(*tasks)
    for connection in opened:
        connection.close()
    return result


def _run_load(load: Load) -> Result:
    work = _open_loop if load.mode == "latency" else _throughput
    return asyncio.run(work(load))


@dataclass
class Figures:
    rps: float
    p50: float
    p99: float
    errors: int
    first_error: str
    stored: int
    cpu_ms: float
    """The web process's CPU time per request (user + system), warm-up included."""


def measure(pool: ProcessPoolExecutor, processes: int, template: Load, server_pid: int) -> Figures:
    if template.mode != "latency":
        shares = [template.connections // processes + (n < template.connections % processes) for n in range(processes)]
        loads = [
            Load(**{**template.__dict__, "connections": share, "first_number": template.first_number + n * 10**8})
            for n, share in enumerate(shares)
            if share
        ]
    else:
        loads = [template]  # one process keeps one clock
    cpu_before = cpu_seconds(server_pid)
    results = list(pool.map(_run_load, loads))
    cpu = cpu_seconds(server_pid) - cpu_before
    latencies = [value for result in results for value in result.latencies_ms]
    every = sum(result.all_requests for result in results)
    return Figures(
        rps=sum(result.requests for result in results) / template.seconds,
        p50=percentile(latencies, 0.5),
        p99=percentile(latencies, 0.99),
        errors=sum(result.errors for result in results),
        first_error=next((result.first_error for result in results if result.first_error), ""),
        stored=sum(result.stored for result in results),
        cpu_ms=cpu * 1000 / every if every else float("nan"),
    )


async def _drop_queue(redis_url: str, queue_name: str) -> None:
    """Delete the round's enqueued jobs (no worker runs here) so Redis does not fill up across rounds."""
    redis = Redis.from_url(redis_url)
    try:
        async for key in redis.scan_iter(match=f"saq:{queue_name}*", count=5000):
            await redis.delete(key)
        async for key in redis.scan_iter(match=f"saq:job:{queue_name}:*", count=5000):
            await redis.delete(key)
    finally:
        await redis.aclose()


async def _inbox_rows(database_url: str) -> int:
    connection = await asyncpg.connect(database_url)
    try:
        return int(await connection.fetchval("SELECT count(*) FROM salla_webhooks"))
    finally:
        await connection.close()


def run_rounds(
    arguments: argparse.Namespace, port: int, server_pid: int, env: dict[str, str]
) -> list[dict[str, Figures]]:
    rounds: list[dict[str, Figures]] = []
    with ProcessPoolExecutor(max_workers=arguments.processes) as pool:
        for number in range(1, arguments.rounds + 1):
            figures = {}
            for mode in ("floor", "throughput", "latency"):
                load = Load(
                    host="127.0.0.1",
                    port=port,
                    mode=mode,
                    connections=arguments.connections,
                    rate=arguments.rate,
                    warmup=0.0 if mode == "latency" else arguments.warmup,
                    seconds=arguments.seconds,
                    first_number=(number * 10 + ("floor", "throughput", "latency").index(mode)) * 10**9,
                )
                done = figures[mode] = measure(pool, arguments.processes, load, server_pid)
                asyncio.run(_drop_queue(env["REDIS_URL"], env["WOSOOL_QUEUE"]))
                print(
                    f"round {number} {mode:>10}: {done.rps:7.0f} requests/s  p50 {done.p50:6.1f} ms  "
                    f"p99 {done.p99:6.1f} ms  web CPU {done.cpu_ms:5.2f} ms/request"
                    + (f"  errors {done.errors} (first: {done.first_error})" if done.errors else ""),
                    flush=True,
                )
            rounds.append(figures)
    return rounds


def report(arguments: argparse.Namespace, rounds: list[dict[str, Figures]], machine: str, rows: int) -> None:
    print()
    print(f"Machine: {machine}")
    print(
        f"(a) {arguments.connections} keep-alive connections back to back in {arguments.processes} load process(es), "
        f"{arguments.warmup:g} s warm-up + {arguments.seconds:g} s; (b) open loop at {arguments.rate:g}/s for "
        f"{arguments.seconds:g} s; {arguments.rounds} rounds; medians of the rounds"
    )
    print("| load | requests/s | p50 | p99 | web process CPU per request | target |")
    print("| --- | --- | --- | --- | --- | --- |")
    labels = {
        "floor": "floor: `GET /api/health` on the same server, full concurrency",
        "throughput": "(a) signed deliveries, full concurrency",
        "latency": f"(b) signed deliveries, open loop {arguments.rate:g}/s",
    }
    for mode, label in labels.items():
        rps = statistics.median(figures[mode].rps for figures in rounds)
        p50 = statistics.median(figures[mode].p50 for figures in rounds)
        p99 = statistics.median(figures[mode].p99 for figures in rounds)
        cpu = statistics.median(figures[mode].cpu_ms for figures in rounds)
        if mode == "floor":
            verdict = ""
        elif mode == "throughput":
            floor = statistics.median(figures["throughput"].rps / figures["floor"].rps for figures in rounds)
            verdict = f"{floor:.2f}x the floor; "
            verdict += f">= {THROUGHPUT_TARGET:,.0f}/s: " + ("met" if rps >= THROUGHPUT_TARGET else "MISSED")
        else:
            verdict = f"p99 < {P99_TARGET_MS:g} ms: " + ("met" if p99 < P99_TARGET_MS else "MISSED")
        print(f"| {label} | {rps:,.0f} | {p50:.1f} ms | {p99:.1f} ms | {cpu:.2f} ms | {verdict} |")
    errors = sum(figures[mode].errors for figures in rounds for mode in figures)
    stored = sum(figures[mode].stored for figures in rounds for mode in figures)
    print(f"non-200 answers: {errors}; answered 'stored': {stored}; rows in the inbox: {rows}"
          + ("" if rows == stored else "  <-- MISMATCH"))  # fmt: skip


async def _create_registry() -> tuple[str, str]:
    name = f"bench_webhooks_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(SERVER_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        version = str(await admin.fetchval("SHOW server_version"))
    finally:
        await admin.close()
    registry.bind(with_database(SERVER_URL, name))
    await registry.migrate()
    return name, version


async def _drop_registry(name: str) -> None:
    admin = await asyncpg.connect(SERVER_URL)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def main(arguments: argparse.Namespace) -> None:
    name, postgres = asyncio.run(_create_registry())
    database_url = with_database(SERVER_URL, name)
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": REDIS_URL, "LOG_LEVEL": arguments.log_level,
           "SALLA_WEBHOOK_SECRET": SECRET, "WOSOOL_QUEUE": f"bench-webhooks-{uuid.uuid4().hex[:6]}"}  # fmt: skip
    logs = Path(tempfile.mkdtemp(prefix="wosool-bench-"))
    port = _free_port()
    server = _start(["-m", "app", "serve", "--port", str(port)], env, logs / "web.log")
    try:
        _wait(f"http://127.0.0.1:{port}/api/health", server, logs / "web.log")
        machine = machine_notes(postgres)
        rounds = run_rounds(arguments, port, server.pid, env)
        rows = asyncio.run(_inbox_rows(database_url))
        report(arguments, rounds, machine, rows)
        print("load average after the run: " + ", ".join(f"{value:.1f}" for value in os.getloadavg()))
    finally:
        server.terminate()
        server.wait(timeout=30)
        asyncio.run(_drop_queue(env["REDIS_URL"], env["WOSOOL_QUEUE"]))
        asyncio.run(_drop_registry(name))


def _arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rate", type=float, default=200.0, help="open-loop deliveries per second for (b)")
    parser.add_argument("--processes", type=int, default=1, help="load processes sharing the connections in (a)")
    parser.add_argument("--log-level", default="WARNING")
    return parser.parse_args(argv)


if __name__ == "__main__":
    main(_arguments(sys.argv[1:]))
