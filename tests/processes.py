"""``wosool serve`` and ``wosool worker`` processes for the tests, their imports done a test ahead.

Most of a Wosool process's start-up is Python importing Litestar, SAQ, asyncpg and the app: one to two seconds
of CPU, paid again by every browser test. A spare process does those imports before a test needs it, then waits
for its command line, environment and log file on stdin and runs the real command with them: ``app.cli.main()``,
what ``python -m app`` runs. Nothing of the test's settings is known to the spare before that, and the app reads
its settings from the environment only once the command runs (``Settings.from_env``; the registry engine and
the worker are bound to ``DATABASE_URL`` there too).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Spares"]

_SPARE = """
import json, os, sys
started_with = set(os.environ)
import uvicorn, app.cli, app.factory, tasks.worker  # what `wosool serve` and `wosool worker` import
order = sys.stdin.readline()
if not order:
    sys.exit(0)  # the test session ended without needing this process
command = json.loads(order)
log = os.open(command["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
os.dup2(log, 1)
os.dup2(log, 2)
for name in started_with - set(command["env"]):
    del os.environ[name]
os.environ.update(command["env"])  # what the imports set themselves (PICCOLO_CONF) stays, as in `python -m app`
sys.argv = ["wosool", *command["args"]]
app.cli.main()
"""


@dataclass
class Spares:
    """Spare processes of one test session, ``ready`` of them kept importing ahead."""

    env: dict[str, str]
    """The environment the spares start with (the one a ``wosool`` subprocess gets, before a test's settings)."""
    ready: int = 2
    """Two: a test may start a server and a worker."""
    _waiting: list[tuple[subprocess.Popen[bytes], Path]] = field(default_factory=list)
    _logs: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="wosool-spares-")))
    _started: int = 0

    def run(self, args: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
        """``python -m app <args>`` with ``env``, its output in ``log_path``, in a process that is already warm."""
        process, spare_log = self._waiting.pop(0) if self._waiting else self._spawn()
        if process.poll() is not None:
            raise AssertionError(f"a spare wosool process died while importing:\n{spare_log.read_text()}")
        assert process.stdin is not None
        process.stdin.write(json.dumps({"args": args, "env": env, "log": str(log_path)}).encode() + b"\n")
        process.stdin.close()
        return process

    def refill(self) -> None:
        """Start the spares of the next tests: after a test, not during it (processes importing beside a browser
        test would slow its pages down)."""
        while len(self._waiting) < self.ready:
            self._waiting.append(self._spawn())

    def close(self) -> None:
        """Let the unused spares go (their input ends: they exit without running anything)."""
        for process, _ in self._waiting:
            assert process.stdin is not None
            process.stdin.close()
        for process, _ in self._waiting:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._waiting.clear()
        shutil.rmtree(self._logs, ignore_errors=True)

    def _spawn(self) -> tuple[subprocess.Popen[bytes], Path]:
        self._started += 1
        spare_log = self._logs / f"spare-{self._started}.log"
        with spare_log.open("w") as log:
            process = subprocess.Popen(
                [sys.executable, "-c", _SPARE],
                env=self.env,
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return process, spare_log
