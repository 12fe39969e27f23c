from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from app.settings import DEV_ENCRYPTION_KEY, DEV_SECRET_KEY, ConfigError, Settings

GOOD_PRODUCTION = {
    "WOSOOL_ENV": "production",
    "DATABASE_URL": "postgresql://wosool@db/wosool",
    "REDIS_URL": "redis://redis:6379/0",
    "SECRET_KEY": "s" * 48,
    "ENCRYPTION_KEY": Fernet.generate_key().decode(),
    "SUPER_ADMIN_KEY": "a" * 32,
}


def test_it_needs_nothing_in_development() -> None:
    settings = Settings.from_env({})

    assert settings.env == "development"
    assert settings.secret_key == DEV_SECRET_KEY
    assert settings.database_url == ""


def test_it_accepts_a_complete_production_environment() -> None:
    settings = Settings.from_env(GOOD_PRODUCTION)

    assert settings.is_production
    assert settings.log_json is True


@pytest.mark.parametrize("name", ["SECRET_KEY", "ENCRYPTION_KEY", "SUPER_ADMIN_KEY"])
def test_it_refuses_a_missing_production_secret_and_says_how_to_make_one(name: str) -> None:
    env = {k: v for k, v in GOOD_PRODUCTION.items() if k != name}

    with pytest.raises(ConfigError) as refused:
        Settings.from_env(env)

    assert f"{name} is missing" in str(refused.value)
    assert "python -c" in str(refused.value)


@pytest.mark.parametrize(
    ("name", "value", "complaint"),
    [
        ("SECRET_KEY", DEV_SECRET_KEY, "development default"),
        ("SECRET_KEY", "short", "too short"),
        ("ENCRYPTION_KEY", DEV_ENCRYPTION_KEY, "development default"),
        ("ENCRYPTION_KEY", "not-a-fernet-key", "Fernet"),
        ("SUPER_ADMIN_KEY", "dev-only-super-admin-key", "development default"),
    ],
)
def test_it_refuses_a_weak_production_secret(name: str, value: str, complaint: str) -> None:
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({**GOOD_PRODUCTION, name: value})

    assert name in str(refused.value)
    assert complaint in str(refused.value)


def test_it_names_every_problem_at_once() -> None:
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({"WOSOOL_ENV": "production"})

    for name in ("SECRET_KEY", "ENCRYPTION_KEY", "SUPER_ADMIN_KEY", "DATABASE_URL", "REDIS_URL"):
        assert name in str(refused.value)


def test_it_reads_several_encryption_keys_for_rotation() -> None:
    new, old = Fernet.generate_key().decode(), Fernet.generate_key().decode()

    settings = Settings.from_env({**GOOD_PRODUCTION, "ENCRYPTION_KEY": f"{new}, {old}"})

    assert settings.encryption_keys == (new, old)


@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        ({"WOSOOL_ENV": "staging"}, "WOSOOL_ENV"),
        ({"TENANT_POOL_BUDGET": "many"}, "TENANT_POOL_BUDGET must be a whole number"),
        ({"TENANT_POOL_BUDGET": "0"}, "at least 1"),
        ({"LOG_JSON": "maybe"}, "LOG_JSON must be true or false"),
        ({"SALLA_WEBHOOK_STRATEGY": "none"}, "SALLA_WEBHOOK_STRATEGY"),
    ],
)
def test_it_refuses_malformed_values(env: dict[str, str], complaint: str) -> None:
    with pytest.raises(ConfigError, match=complaint):
        Settings.from_env(env)


def test_it_reads_the_salla_and_clerk_settings() -> None:
    settings = Settings.from_env(
        {
            "SALLA_API_URL": "http://127.0.0.1:9000/admin/v2/",
            "SALLA_RETENTION_DAYS": "7",
            "CLERK_PUBLISHABLE_KEY": "pk_test_x",
            "CLERK_AUTHORIZED_PARTIES": "https://a.example, https://b.example",
        }
    )

    assert settings.salla.api_url == "http://127.0.0.1:9000/admin/v2"
    assert settings.salla.retention_days == 7
    assert settings.clerk.enabled
    assert settings.clerk.authorized_parties == ("https://a.example", "https://b.example")


def test_env_example_documents_every_variable_the_settings_read() -> None:
    import re
    from pathlib import Path

    from app.settings import PROJECT_ROOT

    source = (PROJECT_ROOT / "app" / "settings.py").read_text()
    read = set(re.findall(r'_get(?:_int|_bool)?\(\s*env,\s*"([A-Z_]+)"', source))
    documented = set(re.findall(r"^#?\s*([A-Z_]+)=", (Path(PROJECT_ROOT) / ".env.example").read_text(), re.M))

    assert read, "the pattern found no settings: fix the test"
    assert read <= documented, f"missing from .env.example: {sorted(read - documented)}"
