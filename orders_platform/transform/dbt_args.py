"""Pure functions that turn a Dagster run into dbt CLI arguments.

Kept free of Dagster contexts and I/O so the rules (which window, never a production full
refresh, no unit tests in production builds) are tested directly and cheaply.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

PRODUCTION_TARGET = "prod"


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
        return {
            "orders_window_start": self.start.isoformat(),
            "orders_window_end": self.end.isoformat(),
        }


def dbt_build_args(
    window: DateWindow | None,
    *,
    target: str,
    run_id: str | None = None,
    full_refresh: bool = False,
    settings_vars: Mapping[str, float | int | str] | None = None,
) -> list[str]:
    """Arguments for the `dbt build` that materializes `window` (None: no partition window).

    `run_id` (the Dagster run) is recorded on revisions as what revised a day's totals.
    `settings_vars` are settings overriding dbt_project.yml vars (lateness targets, finance as-of).
    Unit tests are left out: they check the SQL, not the data, and run in `make test`.
    """
    if full_refresh and target == PRODUCTION_TARGET:
        raise FullRefreshRefusedError(
            "Refusing --full-refresh on target 'prod': production tables are never rebuilt. "
            "Launch a partition backfill over the affected days instead."
        )
    dbt_vars: dict[str, object] = dict(settings_vars or {})
    if window is not None:
        dbt_vars.update(window.as_vars())
    if run_id is not None:
        dbt_vars["orders_run_id"] = run_id
    args = ["build", "--exclude", "test_type:unit"]
    if dbt_vars:
        args += ["--vars", json.dumps(dbt_vars)]
    if full_refresh:
        args.append("--full-refresh")
    return args
