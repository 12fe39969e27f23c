"""Serving the sandbox over HTTP: the ASGI app, and uvicorn in the current event loop or in a thread.

Mount points: ``/accounts`` (``SALLA_ACCOUNTS_URL``) and ``/admin/v2`` (``SALLA_API_URL``); ``/`` describes the
sandbox. ``async with serve_sandbox(sandbox) as base_url:`` serves on a free port until the block ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, MutableMapping
from typing import TYPE_CHECKING, Any

import uvicorn

from app.salla.sandbox.accounts import handle_accounts
from app.salla.sandbox.admin_api import handle_admin
from app.salla.sandbox.http import Request, Response, error, json_response

if TYPE_CHECKING:
    from app.salla.sandbox.sandbox import Sandbox

__all__ = ["SandboxApp", "serve_sandbox", "serve_sandbox_in_thread"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

_MOUNTS = (("/accounts", handle_accounts), ("/admin/v2", handle_admin))
_MAX_BODY = 1024 * 1024


class SandboxApp:
    """The sandbox as an ASGI 3 app."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        body = await _read_body(receive)
        response = error(413, "Body too large.") if body is None else self.respond(scope, body)
        await send({"type": "http.response.start", "status": response.status, "headers": response.raw_headers()})
        await send({"type": "http.response.body", "body": response.body})

    def respond(self, scope: Scope, body: bytes) -> Response:
        path: str = scope["path"]
        if path in {"", "/"}:
            return json_response(200, self.sandbox.describe())
        for mount, handler in _MOUNTS:
            if path == mount or path.startswith(f"{mount}/"):
                request = Request.build(
                    scope["method"],
                    path[len(mount) :] or "/",
                    scope.get("query_string", b""),
                    scope.get("headers", []),
                    body,
                    root=f"{_origin(scope)}{mount}",
                )
                with self.sandbox.lock:
                    return handler(self.sandbox, request)
        return error(404, "Not found.")


async def _read_body(receive: Receive) -> bytes | None:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > _MAX_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def _origin(scope: Scope) -> str:
    scheme = scope.get("scheme", "http")
    for name, value in scope.get("headers", []):
        if name == b"host":
            return f"{scheme}://{value.decode('latin-1')}"
    server = scope.get("server") or ("127.0.0.1", 80)
    return f"{scheme}://{server[0]}:{server[1]}"


class _HostedServer(uvicorn.Server):
    """Leaves SIGINT/SIGTERM to whoever runs the event loop (a test, ``wosool dev``, a benchmark)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def serve_sandbox(sandbox: Sandbox, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
    """Serve ``sandbox`` with uvicorn as a background task of the running loop; yields its base URL
    (``http://127.0.0.1:PORT``). ``port=0`` picks a free port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that name it, and without it every reply
    # on a kept-alive connection waits out a delayed ACK (40 ms).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(
        SandboxApp(sandbox),
        lifespan="off",
        ws="none",
        log_config=None,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=5,
    )
    server = _HostedServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]), name="salla-sandbox")
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("the Salla sandbox stopped before it started")
            await asyncio.sleep(0.01)
        shown = f"[{host}]" if family == socket.AF_INET6 else host
        yield f"http://{shown}:{bound_port}"
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await task
        sock.close()


@contextlib.contextmanager
def serve_sandbox_in_thread(sandbox: Sandbox, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """The same, from synchronous code: the server runs in a thread with its own event loop."""
    started = threading.Event()
    base_url: list[str] = []
    failure: list[BaseException] = []
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def run() -> None:
        async with serve_sandbox(sandbox, host, port) as url:
            base_url.append(url)
            started.set()
            await stop.wait()

    def main() -> None:
        try:
            loop.run_until_complete(run())
        except BaseException as problem:  # reported to the caller below
            failure.append(problem)
            started.set()
        finally:
            loop.close()

    thread = threading.Thread(target=main, name="salla-sandbox", daemon=True)
    thread.start()
    started.wait(timeout=30)
    if failure or not base_url:
        thread.join(timeout=5)
        raise RuntimeError("the Salla sandbox did not start") from (failure[0] if failure else None)
    try:
        yield base_url[0]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=30)
