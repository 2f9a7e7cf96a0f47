"""Security rules that a refactor could quietly break: loopback by default, nothing from a
partition key or a payload is ever SQL, and no secret lives in the repository."""

import re
import subprocess

import pytest

from orders_platform.settings import REPO_ROOT
from orders_platform.transform.dbt_args import DateWindow

# Spelled in pieces so this file does not match its own patterns.
SECRET_PATTERNS = {
    "slack webhook": re.compile("hooks" + r"\.slack\.com/services/\w+"),
    "private key": re.compile("-----BEGIN [A-Z ]*" + "PRIVATE KEY-----"),
    "aws key": re.compile("AKIA" + r"[0-9A-Z]{16}"),
    "literal password": re.compile(r"(?i)\b(password|passwd|token)\s*[:=]\s*['\"][^'\"{]+['\"]"),
}


def tracked_files() -> list[str]:
    listing = subprocess.run(
        ["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    return listing.stdout.split()


def test_no_secret_is_committed():
    found = []
    for name in tracked_files():
        text = (REPO_ROOT / name).read_text(encoding="utf-8", errors="replace")
        found += [(name, kind) for kind, pattern in SECRET_PATTERNS.items() if pattern.search(text)]
    assert found == []


def test_every_dbt_connection_setting_comes_from_the_environment():
    profiles = (REPO_ROOT / "dbt" / "profiles.yml").read_text()
    paths = re.findall(r"^\s+path:\s*(.+)$", profiles, flags=re.MULTILINE)
    assert paths and all("env_var('ORDERS_WAREHOUSE'" in p for p in paths), paths


def test_the_dagster_ui_binds_to_loopback_unless_told_otherwise():
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert re.search(r"^HOST \?= 127\.0\.0\.1$", makefile, flags=re.MULTILINE)
    dev_recipe = makefile.split("\ndev:", 1)[1].split("\n\n", 1)[0]
    assert "dagster dev" in dev_recipe and "-h $(HOST)" in dev_recipe


@pytest.mark.parametrize(
    "key",
    ["2026-03-01'; drop table fct_orders; --", "2026-03-01 or 1=1", "{{ run_query() }}", ""],
)
def test_a_partition_key_that_is_not_a_date_never_reaches_dbt(key):
    with pytest.raises(ValueError):
        DateWindow.from_partition_keys(["2026-03-01", key])
