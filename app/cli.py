"""The ``wosool`` command: run, migrate and operate Wosool."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import secrets
import sys
from pathlib import Path

import click
from cryptography.fernet import Fernet

from app.settings import ConfigError, Settings

__all__ = ["main"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def _load_settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigError as error:
        click.echo(str(error), err=True)
        sys.exit(2)


def _require_servers(settings: Settings, command: str) -> None:
    missing = [
        name
        for name, value in (("DATABASE_URL", settings.database_url), ("REDIS_URL", settings.redis_url))
        if not value
    ]
    if missing:
        click.echo(
            f"`wosool {command}` needs {' and '.join(missing)}. "
            "For a zero-setup run with embedded servers use `wosool dev`.",
            err=True,
        )
        sys.exit(2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="wosool")
def main() -> None:
    """Wosool: a multi-tenant CRM for Salla merchants.

    Settings come from the environment (see .env.example). `wosool dev` needs none.
    """


@main.command()
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Address to listen on.")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the embedded servers keep their data [default: WOSOOL_DATA_DIR or .wosool/].",
)
def dev(host: str, port: int, data_dir: Path | None) -> None:
    """Run everything on this machine with no setup.

    Starts an embedded PostgreSQL and an embedded Redis-compatible server in the data folder (unless
    DATABASE_URL / REDIS_URL point at real ones), applies migrations, then serves the web app and runs the
    job worker in this one process. Ctrl-C stops all of it; the next start reuses the data.
    """
    from app.lib.embedded import EmbeddedServersMissing, start_embedded
    from app.lib.logging import configure_logging
    from app.lib.runner import serve_web_and_worker
    from app.registry import database as registry

    settings = _load_settings()
    if data_dir is not None:
        settings = dataclasses.replace(settings, data_dir=data_dir)
    configure_logging(settings)
    click.echo(f"Starting Wosool (data in {settings.data_dir.resolve()}) ...")
    try:
        services = start_embedded(
            settings.data_dir, postgres=not settings.database_url, redis=not settings.redis_url
        )
    except EmbeddedServersMissing as error:
        click.echo(f"Cannot start: {error}", err=True)
        sys.exit(2)
    try:
        settings = dataclasses.replace(
            settings,
            database_url=settings.database_url or services.database_url,
            redis_url=settings.redis_url or services.redis_url,
        )
        # Child processes (and anything that reads the environment later) see the same servers.
        os.environ["DATABASE_URL"] = settings.database_url
        os.environ["REDIS_URL"] = settings.redis_url

        async def run() -> None:
            registry.bind(settings.database_url)
            await registry.migrate()
            await serve_web_and_worker(settings, host=host, port=port, on_started=_print_banner)

        asyncio.run(run())
    finally:
        services.stop()
        click.echo("Wosool stopped.")


def _print_banner(url: str) -> None:
    click.echo(f"\n  Wosool is running at {url}\n  Readiness: {url}/api/ready\n  Press Ctrl-C to stop.\n")


@main.command()
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Address to listen on.")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=int, help="Port to listen on.")
@click.option("--workers", default=1, show_default=True, type=int, help="Web processes to fork.")
def serve(host: str, port: int, workers: int) -> None:
    """Serve the web app against DATABASE_URL and REDIS_URL (production)."""
    import uvicorn

    settings = _load_settings()
    _require_servers(settings, "serve")
    uvicorn.run(
        "app.factory:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        proxy_headers=True,
        log_config=None,
    )


@main.command()
@click.option("--concurrency", default=10, show_default=True, type=int, help="Jobs run at once.")
def worker(concurrency: int) -> None:
    """Run the job worker (provisioning, Salla sync, heartbeats) against REDIS_URL."""
    from app.lib.logging import configure_logging
    from tasks.worker import create_worker

    settings = _load_settings()
    _require_servers(settings, "worker")
    configure_logging(settings)
    asyncio.run(create_worker(settings, concurrency=concurrency).start())


@main.command()
def migrate() -> None:
    """Apply the registry database migrations (safe to run again; runs one at a time)."""
    from app.registry import database as registry

    settings = _load_settings()
    _require_servers(settings, "migrate")
    registry.bind(settings.database_url)
    asyncio.run(registry.migrate(quiet=False))
    click.echo("Registry database is up to date.")


@main.command("generate-secrets")
def generate_secrets() -> None:
    """Print fresh values for SECRET_KEY, ENCRYPTION_KEY and SUPER_ADMIN_KEY."""
    click.echo(f"SECRET_KEY={secrets.token_urlsafe(48)}")
    click.echo(f"ENCRYPTION_KEY={Fernet.generate_key().decode()}")
    click.echo(f"SUPER_ADMIN_KEY={secrets.token_urlsafe(32)}")
