"""Pure functions that turn a Dagster run into a dbt command and its per-run environment.

Kept free of Dagster contexts and I/O so the rules (which window, never a production full
refresh, no unit tests in production builds) are tested directly and cheaply.

The window and the run id reach dbt as environment variables, not `--vars`: dbt re-parses
the whole project when `--vars` change between invocations, which they would on every run
(see `run_setting` in dbt/macros/orders_window.sql). A plain `dbt build --vars ...` still works.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

PRODUCTION_TARGET = "prod"
# The dbt target of ORDERS_ENGINE=spark (dbt/profiles.yml picks it by the same rule).
SPARK_ENGINE = "spark"
SPARK_TARGET = "spark"
# Spark binds its driver to this address only (the session settings say the same).
SPARK_LOCAL_IP = "127.0.0.1"
# dbt reads these in run_setting() and records them, prefix stripped, in its artifacts.
DBT_CUSTOM_ENV_PREFIX = "DBT_ENV_CUSTOM_ENV_"
# The dbt vars a run passes through the environment instead (see `dbt_run_env`).
RUN_SETTING_VARS = frozenset({"orders_window_start", "orders_window_end", "orders_run_id"})


class FullRefreshRefusedError(RuntimeError):
    """Raised instead of running `dbt build --full-refresh` against production."""


@dataclass(frozen=True)
class DateWindow:
    """A half-open range of order dates, [start, end)."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.start >= self.end:
            raise ValueError(f"empty window: start {self.start} is not before end {self.end}")

    @classmethod
    def from_partition_keys(cls, keys: list[str]) -> DateWindow:
        """From consecutive daily partition keys (ISO dates), first to last inclusive."""
        days = sorted(date.fromisoformat(key) for key in keys)
        return cls(days[0], days[-1] + timedelta(days=1))

    def as_vars(self) -> dict[str, str]:
        """The window as the dbt vars of a plain `dbt build --vars ...`."""
        return {
            "orders_window_start": self.start.isoformat(),
            "orders_window_end": self.end.isoformat(),
        }


def dbt_build_args(
    window: DateWindow | None,
    *,
    target: str,
    full_refresh: bool = False,
    settings_vars: Mapping[str, float | int | str] | None = None,
    checks_only: bool = False,
) -> list[str]:
    """Arguments for the `dbt build` that materializes `window` (None: no partition window).

    A run that selects only checks gets `dbt test` instead: `dbt build` skips the tests of a
    model downstream of a failed test, which protects a build, but a checks-only run
    materializes nothing, so each selected check must report pass or fail.

    The window itself travels in the environment (`dbt_run_env`); the arguments are the same
    for every run, which is what lets dbt reuse its parse of the project. Unit tests are
    left out: they check the SQL, not the data, and run in `make test`.
    `settings_vars` override dbt_project.yml vars (lateness targets, finance as-of); they
    change only when someone changes a setting, so they may be `--vars`. They may not name a
    per-run setting: a var would win over the run's own window or id (`run_setting`).
    """
    if full_refresh and target == PRODUCTION_TARGET:
        raise FullRefreshRefusedError(
            "Refusing --full-refresh on target 'prod': production tables are never rebuilt. "
            "Launch a partition backfill over the affected days instead."
        )
    if full_refresh and checks_only:
        raise ValueError("a checks-only run materializes nothing, so it cannot full-refresh")
    reserved = sorted(set(settings_vars or {}) & RUN_SETTING_VARS)
    if reserved:
        raise ValueError(f"settings may not set per-run dbt vars: {reserved}")
    args = ["test" if checks_only else "build", "--exclude", "test_type:unit"]
    if settings_vars:
        args += ["--vars", json.dumps(dict(settings_vars), sort_keys=True)]
    if full_refresh:
        args.append("--full-refresh")
    return args


def dbt_target(engine: str, configured_target: str) -> str:
    """The dbt target a run uses: `spark` on the Spark engine, else the configured DuckDB one.

    `ORDERS_DBT_TARGET` (dev|prod) keeps meaning the DuckDB target; the Spark target is
    chosen by `ORDERS_ENGINE` alone, the same rule `dbt/profiles.yml` applies to a plain
    `dbt build`, so Dagster and the command line never build on different engines.
    """
    return SPARK_TARGET if engine == SPARK_ENGINE else configured_target


def dbt_engine_env(engine: str, *, spark_master: str, spark_warehouse: str) -> dict[str, str]:
    """The engine settings for the dbt process, resolved as the platform resolves them.

    Always sets `ORDERS_ENGINE` (so the profile's target rule and the run agree). On Spark it
    also passes the master and the warehouse as an absolute path (dbt runs in `dbt/`, and the
    Derby metastore path must not depend on a working directory) and binds Spark to loopback.
    """
    values = {"ORDERS_ENGINE": engine}
    if engine == SPARK_ENGINE:
        values |= {
            "ORDERS_SPARK_MASTER": spark_master,
            "ORDERS_SPARK_WAREHOUSE": spark_warehouse,
            "SPARK_LOCAL_IP": SPARK_LOCAL_IP,
        }
    return values


# A dbt test runs with the asset set of the model it is declared on, even when it also reads
# models of an earlier set (order_history's test compares it with fct_orders): dbt's default
# ("eager") would run it with the earlier set too, before its own model exists. dagster-dbt
# still overrides this when a run selects only some checks.
INDIRECT_SELECTION_ENV = {"DBT_INDIRECT_SELECTION": "buildable"}


def dbt_run_env(window: DateWindow | None, *, run_id: str | None = None) -> dict[str, str]:
    """The per-run settings for the dbt process, as `DBT_ENV_CUSTOM_ENV_*` variables.

    Every key is always present (empty when unset), so a value left in the caller's
    environment can never leak into a run. `run_id` (the Dagster run) is recorded on
    revisions as what revised a day's totals. dbt also writes these to `metadata.env` of
    its artifacts, so each run's window is on record.
    """
    settings = {
        "ORDERS_WINDOW_START": window.start.isoformat() if window else "",
        "ORDERS_WINDOW_END": window.end.isoformat() if window else "",
        "ORDERS_RUN_ID": run_id or "",
    }
    return {f"{DBT_CUSTOM_ENV_PREFIX}{name}": value for name, value in settings.items()}
