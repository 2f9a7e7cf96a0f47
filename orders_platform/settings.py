"""Runtime settings read from the environment, each with a safe local default.

Nothing here is read at import time: every value is a function call, so loading the code
location (or a test importing a module) never depends on the caller's environment. The one
setting called while the code location loads is `first_partition_day` (the partitions are
built then; see `orders_platform.partitions`).
Relative paths are resolved against the repository root, not the process's working
directory, because Dagster, dbt (which runs inside `dbt/`) and the Makefile each start in a
different directory and must agree on the same files.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt"

DEFAULT_WAREHOUSE = "data/warehouse.duckdb"
DEFAULT_LANDING_DIR = "data/landing"
DEFAULT_DBT_TARGET = "dev"
DEFAULT_REVENUE_DEADLINE_UTC = "02:00"
DEFAULT_DAGSTER_UI_URL = "http://127.0.0.1:3000"
ENGINES: tuple[str, ...] = ("duckdb", "spark")
DEFAULT_ENGINE = "duckdb"
DEFAULT_SPARK_MASTER = "local[2]"
DEFAULT_SPARK_WAREHOUSE = "data/spark-warehouse"
# the first partition of deployments that predate the setting; kept so their partitions stay
DEFAULT_FIRST_PARTITION_DAY = "2025-01-01"


def _share(raw: str) -> float:
    value = float(raw)
    if not 0 < value <= 1:
        raise ValueError("must be in (0, 1]")
    return value


def _count(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError("must be >= 0")
    return value


def _utc_timestamp(raw: str) -> str:
    """An ISO timestamp as naive UTC text (how the warehouse stores time)."""
    moment = datetime.fromisoformat(raw)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(sep=" ")


# Settings passed to dbt as vars: environment variable -> (dbt var, parser). Their defaults
# live in dbt/dbt_project.yml, so plain dbt and Dagster agree; a set variable overrides.
DBT_VAR_SETTINGS: dict[str, tuple[str, Callable[[str], float | int | str]]] = {
    "ORDERS_LATENESS_TARGET_SHARE": ("lateness_target_share", _share),
    "ORDERS_LATENESS_TRAILING_DAYS": ("lateness_trailing_days", _count),
    "ORDERS_FINALITY_QUIET_HOURS": ("finality_quiet_hours", _count),
    "ORDERS_FINANCE_AS_OF": ("finance_as_of", _utc_timestamp),
}


def _flag(name: str, *, default: bool) -> bool:
    """A true/false setting; anything else fails loudly rather than meaning either."""
    raw = (os.environ.get(name) or str(default)).strip().lower()
    if raw not in ("true", "false"):
        raise ValueError(f"{name}={raw!r}: expected true or false")
    return raw == "true"


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


def engine() -> str:
    """The warehouse engine (`ORDERS_ENGINE`: `duckdb`, the default, or `spark`).

    Anything else fails loudly: a typo must not silently run the platform on the other engine.
    """
    value = os.environ.get("ORDERS_ENGINE") or DEFAULT_ENGINE
    if value not in ENGINES:
        raise ValueError(f"ORDERS_ENGINE={value!r}: expected one of {', '.join(ENGINES)}")
    return value


def spark_master() -> str:
    """The Spark master URL (`ORDERS_SPARK_MASTER`, e.g. `spark://host:7077`)."""
    return os.environ.get("ORDERS_SPARK_MASTER") or DEFAULT_SPARK_MASTER


def spark_warehouse() -> Path:
    """The directory of the Spark tables and their Derby metastore (`ORDERS_SPARK_WAREHOUSE`)."""
    return resolve_path(os.environ.get("ORDERS_SPARK_WAREHOUSE") or DEFAULT_SPARK_WAREHOUSE)


def dbt_in_process() -> bool:
    """Whether dbt runs inside the Dagster run's process (`ORDERS_DBT_IN_PROCESS`, default
    true); false runs stock dagster-dbt, a dbt subprocess per invocation
    (`orders_platform.dagster_internals`)."""
    return _flag("ORDERS_DBT_IN_PROCESS", default=True)


def pg_event_log_pool() -> bool:
    """Whether the production instance's event log keeps its PostgreSQL connections open
    between writes (`ORDERS_PG_EVENT_LOG_POOL`, default true; see
    `orders_platform.dagster_internals`)."""
    return _flag("ORDERS_PG_EVENT_LOG_POOL", default=True)


def dbt_target() -> str:
    """The dbt target in `dbt/profiles.yml` (`ORDERS_DBT_TARGET`: `dev` or `prod`)."""
    return os.environ.get("ORDERS_DBT_TARGET") or DEFAULT_DBT_TARGET


def revenue_deadline_utc() -> str:
    """By when (HH:MM UTC) yesterday's revenue must exist (`ORDERS_REVENUE_DEADLINE_UTC`)."""
    return os.environ.get("ORDERS_REVENUE_DEADLINE_UTC") or DEFAULT_REVENUE_DEADLINE_UTC


def dagster_ui_url() -> str:
    """The Dagster UI's base URL that alerts link runs under (`ORDERS_DAGSTER_UI_URL`)."""
    return (os.environ.get("ORDERS_DAGSTER_UI_URL") or DEFAULT_DAGSTER_UI_URL).rstrip("/")


def first_partition_day() -> date:
    """The deployment's first daily partition (`ORDERS_FIRST_PARTITION_DAY`, an ISO date).

    Read when the code location loads, not per run: Dagster builds the partitions then. A
    malformed value fails the load, naming the variable.
    """
    raw = os.environ.get("ORDERS_FIRST_PARTITION_DAY") or DEFAULT_FIRST_PARTITION_DAY
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValueError(
            f"ORDERS_FIRST_PARTITION_DAY={raw!r}: expected a date as YYYY-MM-DD"
        ) from None


def dbt_var_settings() -> dict[str, float | int | str]:
    """dbt vars for the settings set in the environment (unset: dbt_project.yml's default).

    `ORDERS_LATENESS_TARGET_SHARE`: share of events and of net revenue the recommended
    lookback must cover (default 0.999). `ORDERS_LATENESS_TRAILING_DAYS`: order dates the
    completeness curve looks back over (default 28). `ORDERS_FINALITY_QUIET_HOURS`: hours
    without a revision before a settled day is final (default 48). `ORDERS_FINANCE_AS_OF`:
    the moment finance_revenue_daily shows (default: now). A malformed value fails here,
    before dbt runs.
    """
    values: dict[str, float | int | str] = {}
    for env_name, (dbt_var, parse) in DBT_VAR_SETTINGS.items():
        raw = os.environ.get(env_name)
        if not raw:
            continue
        try:
            values[dbt_var] = parse(raw)
        except ValueError as error:
            raise ValueError(f"{env_name}={raw!r}: {error}") from error
    return values
