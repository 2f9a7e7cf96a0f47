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

# Lateness and finality settings: environment variable -> (dbt var, parser). Their defaults
# live in dbt/dbt_project.yml, so plain dbt and Dagster agree; a set variable overrides.
LATENESS_SETTINGS: dict[str, tuple[str, type]] = {
    "ORDERS_LATENESS_TARGET_SHARE": ("lateness_target_share", float),
    "ORDERS_LATENESS_TRAILING_DAYS": ("lateness_trailing_days", int),
    "ORDERS_FINALITY_QUIET_HOURS": ("finality_quiet_hours", int),
}


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


def lateness_dbt_vars() -> dict[str, float | int]:
    """dbt vars for the lateness settings set in the environment (unset: dbt's defaults).

    `ORDERS_LATENESS_TARGET_SHARE` (share of events and revenue the recommended lookback
    must cover, default 0.999), `ORDERS_LATENESS_TRAILING_DAYS` (days the curve looks back
    over, default 28), `ORDERS_FINALITY_QUIET_HOURS` (hours without a revision before a
    settled day is final, default 48). A malformed value fails loudly here, before dbt runs.
    """
    values: dict[str, float | int] = {}
    for env_name, (dbt_var, parse) in LATENESS_SETTINGS.items():
        raw = os.environ.get(env_name)
        if not raw:
            continue
        try:
            value = parse(raw)
        except ValueError as error:
            raise ValueError(f"{env_name}={raw!r} is not a valid {parse.__name__}") from error
        if value < 0 or (dbt_var == "lateness_target_share" and not 0 < value <= 1):
            raise ValueError(f"{env_name}={raw!r} is out of range")
        values[dbt_var] = value
    return values
