"""The README's first command, as a newcomer runs it: `wosool dev` from nothing, then Ctrl-C."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from pathlib import Path

import asyncpg
import psutil
import pytest
from playwright.async_api import Page

from app.ops import heartbeats
from app.settings import Settings
from tests.conftest import free_port, wait_for, wosool_env


class DevRun:
    """One `wosool dev` process with embedded servers in ``data_dir``."""

    def __init__(self, data_dir: Path, log_path: Path, **env: str) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        with log_path.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "app", "dev", "--port", str(self.port), "--data-dir", str(data_dir)],
                # Without DATABASE_URL / REDIS_URL in ``env`` the embedded servers must start.
                env=wosool_env(**env),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.log_path = log_path

    async def wait_until_ready(self) -> None:
        await asyncio.to_thread(
            wait_for, f"{self.url}/api/ready", process=self.process, log_path=self.log_path, timeout=90
        )

    def every_process_it_started(self) -> list[psutil.Process]:
        """Its children, plus the embedded servers, which run as daemons and so are not its children."""
        found = psutil.Process(self.process.pid).children(recursive=True)
        for pid_file in (
            self.data_dir / "postgres" / "postmaster.pid",
            self.data_dir / "redis" / "valkey.pid",
        ):
            found.append(psutil.Process(int(pid_file.read_text().split()[0])))
        return found

    def postgres_url(self) -> str:
        socket_dir = (self.data_dir / "postgres" / "postmaster.pid").read_text().splitlines()[4]
        return f"postgresql://postgres@/wosool?host={socket_dir}"

    def interrupt(self) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=60)


def _alive(processes: list[psutil.Process]) -> list[str]:
    return [f"{p.pid} {p.name()}" for p in processes if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


@pytest.mark.slow
@pytest.mark.browser
async def test_wosool_dev_serves_the_landing_page_and_ctrl_c_leaves_nothing_behind(page: Page, tmp_path: Path) -> None:
    run = DevRun(tmp_path / "data", tmp_path / "dev.log")
    try:
        await run.wait_until_ready()
        started = run.every_process_it_started()
        await page.goto(run.url + "/")

        assert "Wosool" in await page.title()
        assert await page.locator('a[href="/signup"]').count() > 0
        assert any("postgres" in p.name() for p in started)
        assert any("valkey" in p.name() for p in started)
    finally:
        exit_code = run.interrupt()

    output = run.log_path.read_text()
    assert exit_code == 0, output
    assert f"Wosool is running at {run.url}" in output
    await asyncio.sleep(0.5)  # postgres' last background workers exit just after the postmaster
    assert _alive(started) == [], output


@pytest.mark.slow
async def test_a_second_wosool_dev_reuses_the_data_of_the_first(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    workers_seen = []
    for attempt in range(2):
        run = DevRun(data_dir, tmp_path / f"dev-{attempt}.log")
        try:
            await run.wait_until_ready()
            connection = await asyncpg.connect(run.postgres_url())
            try:
                # Ready may be answered on the first run's heartbeat, still fresh, before this run's worker beats.
                for _ in range(300):
                    seen = await connection.fetchval("SELECT count(*) FROM worker_heartbeats")
                    if seen > attempt:
                        break
                    await asyncio.sleep(0.1)
                workers_seen.append(seen)
            finally:
                await connection.close()
        finally:
            assert run.interrupt() == 0, run.log_path.read_text()

    # Each run's worker leaves its own heartbeat row; the second run still sees the first one's.
    assert workers_seen == [1, 2]


@pytest.mark.slow
async def test_wosool_dev_uses_real_servers_when_their_urls_are_set(settings: Settings, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    run = DevRun(data_dir, tmp_path / "dev.log", DATABASE_URL=settings.database_url, REDIS_URL=settings.redis_url)
    try:
        await run.wait_until_ready()
        assert await heartbeats.newest_beat() is not None  # written into the test's own registry database
    finally:
        assert run.interrupt() == 0, run.log_path.read_text()

    assert not (data_dir / "postgres").exists()
    assert not (data_dir / "redis").exists()
