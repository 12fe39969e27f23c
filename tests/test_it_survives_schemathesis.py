"""schemathesis generates requests from the OpenAPI document at /api/docs and checks that none of them, valid or
not, makes the server answer 5xx."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.accounts import api_keys
from tests.conftest import World


@pytest.mark.slow
async def test_no_generated_request_gets_a_server_error(
    live_server: str, live_worker: subprocess.Popen[bytes], world: World, tmp_path: Path
) -> None:
    _, key = await api_keys.create_api_key(world.acme.id, "acme", name="schemathesis", actor="test")
    executable = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert executable, "schemathesis is part of the dev dependencies"

    result = await asyncio.to_thread(
        subprocess.run,
        [
            executable, "run", f"{live_server}/api/docs/openapi.json",
            "--checks", "not_a_server_error",
            "--header", f"Authorization: Bearer {key}",
            "--max-examples", "15",
            "--request-timeout", "10",
            "--generation-database", "none",
            "--seed", "1",
        ],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=tmp_path,
        check=False,
    )  # fmt: skip

    assert result.returncode == 0, result.stdout[-4000:]
    assert "Server error" not in result.stdout
