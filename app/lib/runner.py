"""Run the web app and the SAQ worker side by side in one process (``wosool dev``)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Iterator

import uvicorn

from app.factory import create_app
from app.settings import Settings
from tasks.worker import create_worker

__all__ = ["serve_web_and_worker"]


class _HostedServer(uvicorn.Server):
    """A uvicorn server that leaves SIGINT and SIGTERM to its host, so one Ctrl-C stops everything."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve_web_and_worker(settings: Settings, *, host: str, port: int, on_started: Callable[[str], None]) -> None:
    """Serve until SIGINT/SIGTERM or until either half stops; then stop both cleanly."""
    server = _HostedServer(
        uvicorn.Config(create_app(settings), host=host, port=port, access_log=False, log_config=None)
    )
    worker = create_worker(settings, handle_signals=False)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        web_task = asyncio.create_task(server.serve(), name="web")
        worker_task = asyncio.create_task(worker.start(), name="worker")
        stop_task = asyncio.create_task(stop.wait(), name="stop")
        announce = asyncio.create_task(_announce_when_started(server, host, port, on_started))
        await asyncio.wait({web_task, worker_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
        announce.cancel()
        server.should_exit = True
        await worker.stop()
        stop_task.cancel()
        results = await asyncio.gather(web_task, worker_task, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
                raise result
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


async def _announce_when_started(
    server: uvicorn.Server, host: str, port: int, on_started: Callable[[str], None]
) -> None:
    while not server.started:  # noqa: ASYNC110 (uvicorn offers a flag, not an event)
        await asyncio.sleep(0.05)
    shown_host = "127.0.0.1" if host in {"0.0.0.0", "::"} else host
    on_started(f"http://{shown_host}:{port}")
