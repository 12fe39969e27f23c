"""Every setting Wosool reads, read once from the environment.

`Settings.from_env()` is the only place that looks at ``os.environ``; everything else receives a
`Settings` object. `.env.example` documents each variable and docs/architecture.md explains them.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "DEV_ENCRYPTION_KEY",
    "DEV_SECRET_KEY",
    "DEV_SUPER_ADMIN_KEY",
    "PROJECT_ROOT",
    "ClerkSettings",
    "ConfigError",
    "ElevenLabsSettings",
    "SallaSettings",
    "Settings",
]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
"""The repository root: templates, static files and migrations live beside the ``app`` package."""

# Development defaults: good enough on a laptop, refused in production.
DEV_SECRET_KEY = "dev-only-secret-key-change-me-in-production-0000000000"  # noqa: S105 (refused in production)
DEV_ENCRYPTION_KEY = "ZGV2LW9ubHktZW5jcnlwdGlvbi1rZXktMzItYnl0ZXM="  # base64 of 32 bytes
DEV_SUPER_ADMIN_KEY = "dev-only-super-admin-key"

_SECRET_HINTS = {
    "SECRET_KEY": 'python -c "import secrets; print(secrets.token_urlsafe(48))"',
    "ENCRYPTION_KEY": ('python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'),
    "SUPER_ADMIN_KEY": 'python -c "import secrets; print(secrets.token_urlsafe(32))"',
}


class ConfigError(Exception):
    """The environment describes a configuration Wosool refuses to start with."""


@dataclass(frozen=True)
class SallaSettings:
    """The Salla app's credentials and the Salla endpoints (the sandbox overrides the URLs)."""

    client_id: str = ""
    client_secret: str = ""
    webhook_secret: str = ""
    webhook_strategy: str = "signature"
    """``signature`` (HMAC-SHA256 of the raw body) or ``token`` (shared secret in Authorization)."""
    accounts_url: str = "https://accounts.salla.sa"
    api_url: str = "https://api.salla.dev/admin/v2"
    retention_days: int = 30
    """Days a tenant's data is kept after the app is uninstalled."""


@dataclass(frozen=True)
class ClerkSettings:
    """Clerk sign-in; enabled when a publishable key is set."""

    publishable_key: str = ""
    secret_key: str = ""
    webhook_secret: str = ""
    jwks_url: str = ""
    authorized_parties: tuple[str, ...] = ()

    @property
    def enabled(self) -> bool:
        return bool(self.publishable_key)


@dataclass(frozen=True)
class ElevenLabsSettings:
    """Defaults for the storefront assistant."""

    default_agent_id: str = ""
    widget_script_url: str = "https://unpkg.com/@elevenlabs/convai-widget-embed@0.16.4"
    api_url: str = "https://api.elevenlabs.io"


@dataclass(frozen=True)
class Settings:
    """Wosool's configuration. Build it with `Settings.from_env()`."""

    env: str = "development"
    """``development`` or ``production``; production refuses missing or default secrets."""
    database_url: str = ""
    """Registry PostgreSQL. Empty under ``wosool dev`` means: start the embedded server."""
    redis_url: str = ""
    """Redis for jobs, sessions, rate limits and caches. Empty under ``wosool dev``: embedded server."""
    data_dir: Path = field(default_factory=lambda: Path(".wosool"))
    """Where ``wosool dev`` keeps the embedded servers' data."""
    secret_key: str = DEV_SECRET_KEY
    """Signs sessions and CSRF tokens."""
    encryption_keys: tuple[str, ...] = (DEV_ENCRYPTION_KEY,)
    """Fernet keys for secrets at rest; the first encrypts, all decrypt (rotation)."""
    super_admin_key: str = DEV_SUPER_ADMIN_KEY
    """Operator API key (``X-Admin-Key``)."""
    app_url: str = "http://127.0.0.1:8000"
    base_domain: str = ""
    """When set, ``{slug}.{base_domain}`` resolves to the tenant ``slug``."""
    tenant_pool_budget: int = 50
    """Most PostgreSQL connections one process may hold to tenant databases."""
    log_level: str = "INFO"
    log_json: bool = False
    """JSON log lines (production default) instead of human-readable ones."""
    queue_name: str = "wosool"
    heartbeat_max_age_seconds: float = 30.0
    """Readiness fails when the newest worker heartbeat is older than this."""
    salla: SallaSettings = field(default_factory=SallaSettings)
    clerk: ClerkSettings = field(default_factory=ClerkSettings)
    elevenlabs: ElevenLabsSettings = field(default_factory=ElevenLabsSettings)

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the environment once; raise `ConfigError` naming every problem found."""
        env = os.environ if environ is None else environ
        mode = _get(env, "WOSOOL_ENV", "development").lower()
        if mode not in {"development", "production"}:
            raise ConfigError(f"WOSOOL_ENV must be 'development' or 'production', not {mode!r}.")
        production = mode == "production"
        settings = cls(
            env=mode,
            database_url=_get(env, "DATABASE_URL"),
            redis_url=_get(env, "REDIS_URL"),
            data_dir=Path(_get(env, "WOSOOL_DATA_DIR", ".wosool")),
            secret_key=_get(env, "SECRET_KEY", "" if production else DEV_SECRET_KEY),
            encryption_keys=tuple(
                key.strip()
                for key in _get(env, "ENCRYPTION_KEY", "" if production else DEV_ENCRYPTION_KEY).split(",")
                if key.strip()
            ),
            super_admin_key=_get(env, "SUPER_ADMIN_KEY", "" if production else DEV_SUPER_ADMIN_KEY),
            app_url=_get(env, "APP_URL", "http://127.0.0.1:8000").rstrip("/"),
            base_domain=_get(env, "BASE_DOMAIN").lower(),
            tenant_pool_budget=_get_int(env, "TENANT_POOL_BUDGET", 50, minimum=1),
            log_level=_get(env, "LOG_LEVEL", "INFO").upper(),
            log_json=_get_bool(env, "LOG_JSON", production),
            queue_name=_get(env, "WOSOOL_QUEUE", "wosool"),
            salla=SallaSettings(
                client_id=_get(env, "SALLA_CLIENT_ID"),
                client_secret=_get(env, "SALLA_CLIENT_SECRET"),
                webhook_secret=_get(env, "SALLA_WEBHOOK_SECRET"),
                webhook_strategy=_get(env, "SALLA_WEBHOOK_STRATEGY", "signature").lower(),
                accounts_url=_get(env, "SALLA_ACCOUNTS_URL", "https://accounts.salla.sa").rstrip("/"),
                api_url=_get(env, "SALLA_API_URL", "https://api.salla.dev/admin/v2").rstrip("/"),
                retention_days=_get_int(env, "SALLA_RETENTION_DAYS", 30, minimum=0),
            ),
            clerk=ClerkSettings(
                publishable_key=_get(env, "CLERK_PUBLISHABLE_KEY"),
                secret_key=_get(env, "CLERK_SECRET_KEY"),
                webhook_secret=_get(env, "CLERK_WEBHOOK_SECRET"),
                jwks_url=_get(env, "CLERK_JWKS_URL"),
                authorized_parties=tuple(
                    p.strip() for p in _get(env, "CLERK_AUTHORIZED_PARTIES").split(",") if p.strip()
                ),
            ),
            elevenlabs=ElevenLabsSettings(
                default_agent_id=_get(env, "ELEVENLABS_DEFAULT_AGENT_ID"),
                widget_script_url=_get(
                    env,
                    "ELEVENLABS_WIDGET_SCRIPT_URL",
                    "https://unpkg.com/@elevenlabs/convai-widget-embed@0.16.4",
                ),
                api_url=_get(env, "ELEVENLABS_API_URL", "https://api.elevenlabs.io").rstrip("/"),
            ),
        )
        settings.check()
        return settings

    def check(self) -> None:
        """Refuse settings that cannot work; in production also refuse missing or default secrets."""
        problems: list[str] = []
        if self.salla.webhook_strategy not in {"signature", "token"}:
            problems.append("SALLA_WEBHOOK_STRATEGY must be 'signature' or 'token'.")
        if self.is_production:
            problems.extend(self._secret_problems())
            for name, value in (("DATABASE_URL", self.database_url), ("REDIS_URL", self.redis_url)):
                if not value:
                    problems.append(f"{name} is required in production.")
        if problems:
            raise ConfigError("Wosool cannot start:\n  - " + "\n  - ".join(problems))

    def _secret_problems(self) -> list[str]:
        problems = []
        secrets = {
            "SECRET_KEY": (self.secret_key, DEV_SECRET_KEY, 32),
            "SUPER_ADMIN_KEY": (self.super_admin_key, DEV_SUPER_ADMIN_KEY, 24),
        }
        for name, (value, default, min_length) in secrets.items():
            if not value:
                problems.append(f"{name} is missing. Generate one with: {_SECRET_HINTS[name]}")
            elif value == default:
                problems.append(f"{name} is the development default. Generate one with: {_SECRET_HINTS[name]}")
            elif len(value) < min_length:
                problems.append(
                    f"{name} is too short ({len(value)} characters, at least {min_length}). "
                    f"Generate one with: {_SECRET_HINTS[name]}"
                )
        hint = _SECRET_HINTS["ENCRYPTION_KEY"]
        if not self.encryption_keys:
            problems.append(f"ENCRYPTION_KEY is missing. Generate one with: {hint}")
        elif DEV_ENCRYPTION_KEY in self.encryption_keys:
            problems.append(f"ENCRYPTION_KEY contains the development default. Generate one with: {hint}")
        elif not all(_is_fernet_key(key) for key in self.encryption_keys):
            problems.append(
                "ENCRYPTION_KEY must be Fernet keys (url-safe base64 of 32 bytes), comma-separated, "
                f"newest first. Generate one with: {hint}"
            )
        return problems


def _get(env: Mapping[str, str], name: str, default: str = "") -> str:
    value = env.get(name)
    return default if value is None or value.strip() == "" else value.strip()


def _get_int(env: Mapping[str, str], name: str, default: int, *, minimum: int) -> int:
    raw = _get(env, name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}.") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {value}.")
    return value


def _get_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = _get(env, name).lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}.")


def _is_fernet_key(key: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(key.encode())) == 32
    except (binascii.Error, ValueError):
        return False
