"""Runtime settings read from the environment, each with a safe local default.

Nothing here is read at import time: every value is a function call, so loading the code
location (or a test importing a module) never depends on the caller's environment.
Relative paths are resolved against the repository root, not the process's working
directory, because Dagster, dbt (which runs inside `dbt/`) and the Makefile each start in a
different directory and must agree on the same files.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt"

DEFAULT_WAREHOUSE = "data/warehouse.duckdb"
DEFAULT_LANDING_DIR = "data/landing"
DEFAULT_DBT_TARGET = "dev"
DEFAULT_REVENUE_DEADLINE_UTC = "02:00"


def resolve_path(value: str | os.PathLike[str]) -> Path:
    """Return `value` as an absolute path, reading relative paths from the repository root."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else REPO_ROOT / path


def warehouse_path() -> Path:
    """The embedded DuckDB file (`ORDERS_WAREHOUSE`)."""
    return resolve_path(os.environ.get("ORDERS_WAREHOUSE") or DEFAULT_WAREHOUSE)


def landing_dir() -> Path:
    """Where producers drop complete JSON Lines files (`ORDERS_LANDING_DIR`)."""
    return resolve_path(os.environ.get("ORDERS_LANDING_DIR") or DEFAULT_LANDING_DIR)


def dbt_target() -> str:
    """The dbt target in `dbt/profiles.yml` (`ORDERS_DBT_TARGET`: `dev` or `prod`)."""
    return os.environ.get("ORDERS_DBT_TARGET") or DEFAULT_DBT_TARGET


def revenue_deadline_utc() -> str:
    """By when (HH:MM UTC) yesterday's revenue must exist (`ORDERS_REVENUE_DEADLINE_UTC`)."""
    return os.environ.get("ORDERS_REVENUE_DEADLINE_UTC") or DEFAULT_REVENUE_DEADLINE_UTC
