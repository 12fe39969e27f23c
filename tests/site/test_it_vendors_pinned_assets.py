from __future__ import annotations

import hashlib
import re

from app.settings import PROJECT_ROOT

VENDOR = PROJECT_ROOT / "static" / "vendor"


def test_every_vendored_file_matches_the_hash_recorded_in_the_readme() -> None:
    table = (VENDOR / "README.md").read_text()
    rows = re.findall(r"^\| `([^`]+)` \|.*\| `([0-9a-f]{64})` \|$", table, re.M)

    assert {name for name, _ in rows} == {"htmx-2.0.11.min.js", "pico-2.1.1.jade.min.css"}
    for name, digest in rows:
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name


def test_the_pages_load_htmx_2_and_no_cdn() -> None:
    base = (PROJECT_ROOT / "templates" / "base.html").read_text()

    assert "vendor/htmx-2.0.11.min.js" in base
    assert "https://" not in base
    assert "http://" not in base
