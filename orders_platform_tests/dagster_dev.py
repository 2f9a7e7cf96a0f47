"""A real `dagster dev` (webserver + daemon + code server) for end-to-end tests.

Each test gets its own DAGSTER_HOME with the project's dagster.yaml and the writer pool's
limit set the way `make dev` sets it, a free 127.0.0.1 port, and a server that is always
stopped with every process it started (`benchmarks.dagster_dev`, which the
heal-latency benchmark shares). The helpers here talk to it the way an operator's UI does:
over GraphQL.
"""

import os
from pathlib import Path
from typing import Any

import pytest

from benchmarks.dagster_dev import (
    BIN_DIR,
    dagster_dev,
    free_port,
    graphql,
    platform_env,
    prepare_dagster_home,
    wait_for,
)

__all__ = ["BIN_DIR", "dagster_dev", "free_port", "graphql", "wait_for"]

LAUNCH_BACKFILL = """
mutation Launch($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
    ... on InvalidStepError { invalidStepKey }
    ... on UnauthorizedError { message }
  }
}
"""
BACKFILL_STATUS = """
query Backfill($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    ... on PartitionBackfill { status runs(limit: 100) { runId status } }
  }
}
"""
SENSOR = {
    "repositoryLocationName": "orders_platform.definitions",
    "repositoryName": "__repository__",
    "sensorName": "late_data_remerge_sensor",
}
SENSOR_QUERY = """
query Sensor($sensor: SensorSelector!) {
  sensorOrError(sensorSelector: $sensor) {
    ... on Sensor { sensorState { id status ticks(limit: 1) { status } } }
  }
}
"""
STOP_SENSOR = """
mutation Stop($id: String!) {
  stopSensor(id: $id) { ... on StopSensorMutationResult { instigationState { status } } }
}
"""
FAILED_RUNS = """
query { runsOrError(filter: {statuses: [FAILURE]}) { ... on Runs { results { runId } } } }
"""
LAUNCH_RUN = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on InvalidSubsetError { message }
  }
}
"""
RUN_STATUS = """
query Run($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }
"""
REEXECUTE_RUN = """
mutation Reexecute($params: ReexecutionParams!) {
  launchRunReexecution(reexecutionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
  }
}
"""


def isolated_dagster_home(root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point this test's environment at its own warehouse, landing zone and Dagster home.

    The home gets the project's dagster.yaml and the writer pool limited to 1, as `make dev`
    sets it. Returns the home; every process started afterwards inherits the environment.
    """
    env = platform_env(root)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    home = Path(env["DAGSTER_HOME"])
    prepare_dagster_home(home, os.environ)
    return home


def remerge_sensor(port: int) -> dict:
    """The state of `late_data_remerge_sensor`: its id, status and latest tick."""
    return graphql(port, SENSOR_QUERY, {"sensor": SENSOR})["sensorOrError"]["sensorState"]


def launch_backfill(port: int, assets: list[str], partition_keys: list[str]) -> str:
    """Launch a partition backfill of `assets` as the UI's *Launch backfill* does."""
    params: dict[str, Any] = {
        "assetSelection": [{"path": [asset]} for asset in assets],
        "partitionNames": partition_keys,
    }
    result = graphql(port, LAUNCH_BACKFILL, {"params": params})["launchPartitionBackfill"]
    assert result["__typename"] == "LaunchBackfillSuccess", result
    return result["backfillId"]


def launch_range_run(port: int, job: str, first_day: str, last_day: str) -> str:
    """Launch one run of `job` over a partition range, as the launchpad does."""
    params = {
        "selector": {
            "repositoryLocationName": SENSOR["repositoryLocationName"],
            "repositoryName": SENSOR["repositoryName"],
            "jobName": job,
        },
        "executionMetadata": {
            "tags": [
                {"key": "dagster/asset_partition_range_start", "value": first_day},
                {"key": "dagster/asset_partition_range_end", "value": last_day},
            ]
        },
    }
    result = graphql(port, LAUNCH_RUN, {"params": params})["launchRun"]
    assert result["__typename"] == "LaunchRunSuccess", result
    return result["run"]["runId"]


def run_status(port: int, run_id: str) -> str:
    """A run's status (QUEUED, STARTED, SUCCESS, FAILURE, ...)."""
    return graphql(port, RUN_STATUS, {"id": run_id})["runOrError"]["status"]


def backfill_status(port: int, backfill_id: str) -> dict[str, Any]:
    """The backfill's status and its runs (run id and status each)."""
    return graphql(port, BACKFILL_STATUS, {"id": backfill_id})["partitionBackfillOrError"]


def reexecute_from_failure(port: int, run_id: str) -> str:
    """Re-execute a failed run from its failure, as the run page's button does."""
    params = {"parentRunId": run_id, "strategy": "FROM_FAILURE"}
    result = graphql(port, REEXECUTE_RUN, {"params": params})["launchRunReexecution"]
    assert result["__typename"] == "LaunchRunSuccess", result
    return result["run"]["runId"]
