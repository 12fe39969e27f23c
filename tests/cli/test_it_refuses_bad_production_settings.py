from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import wosool_env


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        env=wosool_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("command", ["serve", "worker", "migrate"])
def test_it_stops_start_up_without_production_secrets(command: str) -> None:
    result = _run(
        command,
        WOSOOL_ENV="production",
        DATABASE_URL="postgresql://x@127.0.0.1:1/x",
        REDIS_URL="redis://127.0.0.1:1/0",
    )

    assert result.returncode == 2
    for name in ("SECRET_KEY", "ENCRYPTION_KEY", "SUPER_ADMIN_KEY"):
        assert f"{name} is missing" in result.stderr
    assert "Generate one with" in result.stderr
    assert "Traceback" not in result.stderr


def test_it_stops_start_up_with_a_default_secret() -> None:
    from cryptography.fernet import Fernet

    result = _run(
        "serve",
        WOSOOL_ENV="production",
        DATABASE_URL="postgresql://x@127.0.0.1:1/x",
        REDIS_URL="redis://127.0.0.1:1/0",
        SECRET_KEY="dev-only-secret-key-change-me-in-production-0000000000",
        ENCRYPTION_KEY=Fernet.generate_key().decode(),
        SUPER_ADMIN_KEY="x" * 30,
    )

    assert result.returncode == 2
    assert "SECRET_KEY is the development default" in result.stderr


def test_serve_says_what_it_needs_without_database_and_redis() -> None:
    result = _run("serve")

    assert result.returncode == 2
    assert "DATABASE_URL and REDIS_URL" in result.stderr
    assert "wosool dev" in result.stderr


def test_help_explains_every_command() -> None:
    result = _run("--help")

    assert result.returncode == 0
    for command in ("dev", "serve", "worker", "migrate", "generate-secrets"):
        assert command in result.stdout


def test_generated_secrets_pass_the_production_checks() -> None:
    generated = _run("generate-secrets")
    secrets = dict(line.split("=", 1) for line in generated.stdout.splitlines())

    from app.settings import Settings

    settings = Settings.from_env(
        {
            "WOSOOL_ENV": "production",
            "DATABASE_URL": "postgresql://x@db/x",
            "REDIS_URL": "redis://r/0",
            **secrets,
        }
    )
    assert settings.secret_key == secrets["SECRET_KEY"]
