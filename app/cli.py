"""The ``wosool`` command: run, migrate and operate Wosool."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import secrets
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

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


def _require_servers(settings: Settings, command: str, *, redis: bool = True) -> None:
    needed = [("DATABASE_URL", settings.database_url)] + ([("REDIS_URL", settings.redis_url)] if redis else [])
    missing = [name for name, value in needed if not value]
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
    from app.salla import demo
    from app.tenancy.migrate import migrate_everything

    settings = _load_settings()
    if data_dir is not None:
        settings = dataclasses.replace(settings, data_dir=data_dir)
    configure_logging(settings)
    click.echo(f"Starting Wosool (data in {settings.data_dir.resolve()}) ...")
    try:
        services = start_embedded(settings.data_dir, postgres=not settings.database_url, redis=not settings.redis_url)
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
            summary = await migrate_everything(settings)
            if not summary.ok:
                click.echo("\n".join(summary.lines()), err=True)
            if not demo.uses_sandbox(settings):
                await serve_web_and_worker(settings, host=host, port=port, on_started=_print_banner)
                return
            async with demo.demo_sandbox(settings) as store:
                await serve_web_and_worker(
                    store.settings, host=host, port=port, on_started=lambda url: _start_demo(store, url)
                )

        asyncio.run(run())
    finally:
        services.stop()
        click.echo("Wosool stopped.")


def _print_banner(url: str) -> None:
    click.echo(f"\n  Wosool is running at {url}\n  Readiness: {url}/api/ready\n  Press Ctrl-C to stop.\n")


_background: set[asyncio.Task[None]] = set()


def _start_demo(store: Any, url: str) -> None:
    """Print the banner, then install the demo store through the webhook (in the background: the web server and
    the worker that apply it are running now)."""
    _print_banner(url)
    task = asyncio.get_running_loop().create_task(_install_demo(store, url))
    _background.add(task)
    task.add_done_callback(_background.discard)


async def _install_demo(store: Any, url: str) -> None:
    from app.salla import demo

    first_time = await demo.install_demo_store(store, url)
    for _ in range(600):  # the owner's account appears once the worker has applied app.store.authorize
        if await demo.demo_owner_exists():
            break
        await asyncio.sleep(0.1)
    await demo.give_demo_owner_a_password()
    verb = "installed" if first_time else "re-authorised"
    click.echo(
        f"  Demo Salla store {verb}: log in at {url}/login as {demo.DEMO_EMAIL} / {demo.DEMO_PASSWORD}\n"
        "  (its customers, products and orders are being copied in from the Salla sandbox)\n"
    )


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
@click.option("--concurrency", default=4, show_default=True, type=int, help="Tenant databases migrated at once.")
def migrate(concurrency: int) -> None:
    """Migrate the registry, then each server's template database, then every tenant database.

    Safe to run again: it continues where an interrupted run stopped, and one failing tenant does not stop
    the others (the summary lists it, and the exit code is 1).
    """
    from app.registry import database as registry
    from app.tenancy.migrate import migrate_everything

    settings = _load_settings()
    _require_servers(settings, "migrate", redis=False)
    registry.bind(settings.database_url)
    summary = asyncio.run(migrate_everything(settings, concurrency=concurrency, progress=click.echo))
    click.echo("\n".join(summary.lines()))
    sys.exit(0 if summary.ok else 1)


@main.command("generate-secrets")
def generate_secrets() -> None:
    """Print fresh values for SECRET_KEY, ENCRYPTION_KEY and SUPER_ADMIN_KEY."""
    click.echo(f"SECRET_KEY={secrets.token_urlsafe(48)}")
    click.echo(f"ENCRYPTION_KEY={Fernet.generate_key().decode()}")
    click.echo(f"SUPER_ADMIN_KEY={secrets.token_urlsafe(32)}")


@main.command("reencrypt-secrets")
def reencrypt_secrets() -> None:
    """Encrypt every stored secret again with the first ENCRYPTION_KEY.

    Rotation: put a new key in front (ENCRYPTION_KEY=new,old), restart, run this, then drop the old key.
    """
    from app.tenancy import services

    settings = _load_settings()

    async def run() -> None:
        click.echo(f"{await services.reencrypt_secrets(settings)} secret(s) re-encrypted with the newest key")

    _run_with_registry(run, settings)


@main.group()
def tenants() -> None:
    """List, create, suspend, resume, delete and migrate tenants (each change is written to the audit log)."""


@tenants.command("list")
@click.option("--status", multiple=True, help="Only tenants with this status (repeatable).")
def tenants_list(status: tuple[str, ...]) -> None:
    """Every tenant with its status, schema version and database."""
    from app.tenancy import repository

    async def run() -> None:
        rows = await repository.list_tenants(statuses=status)
        click.echo(f"{'slug':<24} {'status':<13} {'schema':>6}  {'database':<40} name")
        for t in rows:
            click.echo(f"{t.slug:<24} {t.status:<13} {t.schema_version:>6}  {t.database_name:<40} {t.name}")
        click.echo(f"{len(rows)} tenant(s)")

    _run_with_registry(run)


@tenants.command("create")
@click.option("--name", required=True, help="The organization's name.")
@click.option("--slug", required=True, help="Lowercase letters, digits and hyphens, 3-40 characters.")
@click.option("--owner-email", required=True, help="The first owner's e-mail address.")
@click.password_option("--owner-password", help="The owner's password (asked for when not given).")
def tenants_create(name: str, slug: str, owner_email: str, owner_password: str) -> None:
    """Create a tenant and its owner, and provision its database now."""
    from app.accounts.services import Conflict, InvalidInput, Registration, register_organization
    from app.tenancy import provisioning

    async def run(settings: Settings, redis: Any, queue: Any) -> None:
        try:
            registered = await register_organization(
                Registration(name=name, slug=slug, email=owner_email, password=owner_password),
                settings=settings,
                queue=queue,
                redis=redis,
            )
        except (InvalidInput, Conflict) as error:
            raise click.ClickException(str(error)) from None
        assert registered.tenant is not None
        tenant = await provisioning.provision(registered.tenant.id, settings, redis)
        click.echo(f"{tenant.slug} is {tenant.status} (database {tenant.database_name})")

    _run_with_services(run)


@tenants.command("provision")
@click.argument("slug")
def tenants_provision(slug: str) -> None:
    """Provision (again) a tenant whose provisioning failed or stalled."""
    from app.tenancy import provisioning, repository

    async def run(settings: Settings, redis: Any, queue: Any) -> None:
        tenant = await repository.tenant_by_slug(slug)
        if tenant is None:
            raise click.ClickException(f"no tenant '{slug}'")
        try:
            done = await provisioning.provision(tenant.id, settings, redis)
        except provisioning.ProvisioningFailed as error:
            raise click.ClickException(str(error)) from None
        click.echo(f"{done.slug} is {done.status}")

    _run_with_services(run)


@tenants.command("suspend")
@click.argument("slug")
@click.option("--reason", default="", help="Written to the audit log.")
def tenants_suspend(slug: str, reason: str) -> None:
    """Block sign-in and APIs for a tenant; its data is kept."""
    from app.tenancy import services

    async def run(settings: Settings, redis: Any, queue: Any) -> None:
        tenant = await _lifecycle(services.suspend_tenant(redis, slug, actor="cli", reason=reason))
        click.echo(f"{tenant.slug} is {tenant.status}")

    _run_with_services(run)


@tenants.command("resume")
@click.argument("slug")
def tenants_resume(slug: str) -> None:
    """Let a suspended tenant (or one awaiting deletion) work again."""
    from app.tenancy import services

    async def run(settings: Settings, redis: Any, queue: Any) -> None:
        tenant = await _lifecycle(services.resume_tenant(redis, slug, actor="cli"))
        click.echo(f"{tenant.slug} is {tenant.status}")

    _run_with_services(run)


@tenants.command("delete")
@click.argument("slug")
@click.option("--after-days", default=0, show_default=True, type=int, help="Keep the data this many days first.")
@click.option("--confirm", "confirm_slug", default=None, help="The slug again, to confirm without a prompt.")
def tenants_delete(slug: str, after_days: int, confirm_slug: str | None) -> None:
    """Delete a tenant: drop its database and role, now or after a retention period."""
    from app.tenancy import services

    if confirm_slug is None:
        confirm_slug = click.prompt(f"This drops every record of '{slug}'. Type the slug to confirm")

    async def run(settings: Settings, redis: Any, queue: Any) -> None:
        tenant = await _lifecycle(
            services.delete_tenant(
                redis, slug, actor="cli", settings=settings, confirm_slug=confirm_slug or "", after_days=after_days
            )
        )
        when = f" (deletion after {tenant.delete_after:%Y-%m-%d %H:%M} UTC)" if tenant.delete_after else ""
        click.echo(f"{tenant.slug} is {tenant.status}{when}")

    _run_with_services(run)


@tenants.command("migrate")
@click.option("--concurrency", default=4, show_default=True, type=int, help="Tenant databases migrated at once.")
def tenants_migrate(concurrency: int) -> None:
    """Bring the template and every tenant database to the latest tenant schema."""
    from app.tenancy.migrate import migrate_tenants

    settings = _load_settings()
    _require_servers(settings, "tenants migrate", redis=False)

    async def run() -> None:
        summary = await migrate_tenants(settings, concurrency=concurrency, progress=click.echo)
        click.echo("\n".join(summary.lines()))
        if not summary.ok:
            sys.exit(1)

    _run_with_registry(run, settings)


@main.group()
def apikeys() -> None:
    """Create, list and revoke a tenant's API keys (for /api/v1)."""


@apikeys.command("create")
@click.option("--tenant", "slug", required=True, help="The tenant's slug.")
@click.option("--name", required=True, help="What the key is for, e.g. 'ERP sync'.")
def apikeys_create(slug: str, name: str) -> None:
    """Print a new key once; only its hash is stored."""
    from app.accounts import api_keys

    async def run() -> None:
        tenant = await _active_tenant(slug)
        try:
            record, key = await api_keys.create_api_key(tenant.id, tenant.slug, name=name, actor="cli")
        except ValueError as error:
            raise click.ClickException(str(error)) from None
        click.echo(key)
        click.echo(f"Key '{record.name}' ({record.display}) created for {tenant.slug}. It is shown only now.", err=True)

    _run_with_registry(run)


@apikeys.command("list")
@click.option("--tenant", "slug", required=True, help="The tenant's slug.")
def apikeys_list(slug: str) -> None:
    """The tenant's keys (never the keys themselves)."""
    from app.accounts import api_keys

    async def run() -> None:
        tenant = await _active_tenant(slug, any_status=True)
        for record in await api_keys.list_api_keys(tenant.id):
            state = f"revoked {record.revoked_at:%Y-%m-%d}" if record.revoked_at else "active"
            used = f"{record.last_used_at:%Y-%m-%d %H:%M}" if record.last_used_at else "never"
            click.echo(f"{record.id}  {record.display:<16} {state:<18} last used {used:<17} {record.name}")

    _run_with_registry(run)


@apikeys.command("revoke")
@click.option("--tenant", "slug", required=True, help="The tenant's slug.")
@click.argument("key_id", type=click.UUID)
def apikeys_revoke(slug: str, key_id: Any) -> None:
    """Revoke a key at once (its id is in `wosool apikeys list`)."""
    from app.accounts import api_keys

    async def run() -> None:
        tenant = await _active_tenant(slug, any_status=True)
        try:
            record = await api_keys.revoke_api_key(tenant.id, tenant.slug, key_id, actor="cli")
        except LookupError as error:
            raise click.ClickException(str(error)) from None
        click.echo(f"revoked {record.display} ({record.name})")

    _run_with_registry(run)


async def _active_tenant(slug: str, *, any_status: bool = False) -> Any:
    from app.tenancy import repository

    tenant = await repository.tenant_by_slug(slug)
    if tenant is None or tenant.status == "deleted":
        raise click.ClickException(f"no tenant '{slug}'")
    if not any_status and tenant.status != "active":
        raise click.ClickException(f"'{slug}' is {tenant.status}")
    return tenant


async def _lifecycle(change: Any) -> Any:
    from app.tenancy import services

    try:
        return await change
    except (services.TenantNotFound, services.WrongState) as error:
        raise click.ClickException(str(error)) from None


def _run_with_registry(work: Callable[[], Awaitable[None]], settings: Settings | None = None) -> None:
    from app.registry import database as registry

    settings = settings or _load_settings()
    _require_servers(settings, "tenants", redis=False)
    registry.bind(settings.database_url)

    async def run() -> None:
        await registry.open_pool(max_size=4)
        try:
            await work()
        finally:
            await registry.close_pool()

    asyncio.run(run())


def _run_with_services(work: Callable[[Settings, Any, Any], Awaitable[None]]) -> None:
    """Run ``work(settings, redis, queue)`` with the registry, Redis and the job queue connected."""
    from redis.asyncio import Redis

    from tasks.queue import create_queue

    settings = _load_settings()
    _require_servers(settings, "tenants")

    async def run() -> None:
        redis = Redis.from_url(settings.redis_url)
        queue = create_queue(settings)
        try:
            await work(settings, redis, queue)
        finally:
            await queue.disconnect()
            await redis.aclose()

    _run_with_registry(run, settings)
