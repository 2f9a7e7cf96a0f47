"""Runs in progress when the code server that launched them is stopped.

Each run's process is a child of the code server, so stopping the code server (`make
prod-down`, `make prod-reload`) ends it. Nobody would then mark it ended: the default run
launcher cannot health-check a worker, and run monitoring would end it only after
`max_runtime_seconds` (6 hours), the writer pool's one slot held all the while. So the
commands refuse while runs are in progress, and with `--force` mark the runs they ended as
failed themselves (re-executing such a run is safe: every step is idempotent).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

from deploy.config import Deployment
from orders_platform.dagster_internals import environment

IN_PROGRESS = [DagsterRunStatus.STARTING, DagsterRunStatus.STARTED, DagsterRunStatus.CANCELING]


@contextmanager
def deployment_instance(
    deployment: Deployment, env: Mapping[str, str]
) -> Iterator[DagsterInstance]:
    """The deployment's Dagster instance, its `{env: ...}` connection read from `env` (the
    process environment is restored as soon as the instance is loaded)."""
    connection = {name: value for name, value in env.items() if name.startswith("ORDERS_PG_")}
    with environment(connection):
        instance = DagsterInstance.from_config(str(deployment.dagster_home))
    with instance:
        yield instance


def runs_in_progress(instance: DagsterInstance) -> list[str]:
    """Ids of the runs starting, running or being cancelled."""
    return [run.run_id for run in instance.get_runs(RunsFilter(statuses=IN_PROGRESS))]


def refuse_or_note(instance: DagsterInstance, force: bool, action: str) -> list[str]:
    """The runs in progress, which `action` would end: refused unless `force`."""
    running = runs_in_progress(instance)
    if running and not force:
        raise RuntimeError(
            f"{len(running)} run(s) in progress ({', '.join(running)}): {action} would end "
            "them. Wait for them (UI: Runs), or repeat with FORCE=1 (--force) to end them; "
            "they are then marked failed"
        )
    return running


def mark_ended(instance: DagsterInstance, run_ids: list[str], action: str) -> None:
    """Mark the runs `action` ended, if still in progress, as failed (frees their slots)."""
    for run_id in run_ids:
        run = instance.get_run_by_id(run_id)
        if run is not None and run.status in IN_PROGRESS:
            instance.report_run_failed(run, f"ended by {action}: its code server was stopped")
