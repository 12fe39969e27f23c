"""How long a newcomer waits: `wosool dev` from an empty data folder to /api/ready (cold), again with the
data of the first run (warm), and from Ctrl-C to exit. Also the probes' latency on the running app.

    python -m bench.startup [--runs 3]

Prints medians and writes nothing; copy the table into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "WOSOOL_ENV"}}


def _until_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"wosool dev exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.02)
    raise SystemExit(f"{url} not ready within {timeout} s")


def _probe_latency_ms(url: str, requests: int = 300) -> float:
    with httpx.Client() as client:
        samples = []
        for _ in range(requests):
            started = time.perf_counter()
            client.get(url)
            samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def one_run(data_dir: Path, measure_probes: bool) -> dict[str, float]:
    port = _free_port()
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "dev", "--port", str(port), "--data-dir", str(data_dir)],
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    _until_ready(f"{base}/api/ready", process)
    figures = {"ready_s": time.perf_counter() - started}
    if measure_probes:
        figures["health_ms"] = _probe_latency_ms(f"{base}/api/health")
        figures["ready_probe_ms"] = _probe_latency_ms(f"{base}/api/ready")
        figures["landing_ms"] = _probe_latency_ms(f"{base}/")
    stopping = time.perf_counter()
    process.send_signal(signal.SIGINT)
    process.wait(timeout=60)
    figures["stop_s"] = time.perf_counter() - stopping
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    cold, warm = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="wosool-bench-") as tmp:
            data_dir = Path(tmp) / "data"
            cold.append(one_run(data_dir, measure_probes=False))
            warm.append(one_run(data_dir, measure_probes=True))

    def median(rows: list[dict[str, float]], key: str) -> float:
        return statistics.median(row[key] for row in rows)

    print(f"wosool dev, {runs} runs each, medians")
    print("| measure | median |")
    print("| --- | --- |")
    print(f"| cold start (empty data folder) to /api/ready 200 | {median(cold, 'ready_s'):.2f} s |")
    print(f"| warm start (data reused) to /api/ready 200 | {median(warm, 'ready_s'):.2f} s |")
    print(f"| Ctrl-C to exit, everything stopped | {median(warm + cold, 'stop_s'):.2f} s |")
    print(f"| GET /api/health, sequential | {median(warm, 'health_ms'):.2f} ms |")
    print(f"| GET /api/ready (3 dependency checks), sequential | {median(warm, 'ready_probe_ms'):.2f} ms |")
    print(f"| GET / (landing page), sequential | {median(warm, 'landing_ms'):.2f} ms |")
    ratio = median(warm, "ready_probe_ms") / median(warm, "health_ms")
    print(f"| ratio /api/ready to /api/health | {ratio:.1f}x |")


if __name__ == "__main__":
    main()
