"""A real `dagster dev` (webserver + daemon + code server) for end-to-end tests.

Each test gets its own DAGSTER_HOME with the project's dagster.yaml and the writer pool's
limit set the way `make dev` sets it, a free 127.0.0.1 port, and a server that is always
stopped with every process it started. The helpers talk to it the way an operator's UI does:
over GraphQL.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar

import pytest

from orders_platform.resources.warehouse import WRITER_POOL
from orders_platform.settings import REPO_ROOT

T = TypeVar("T")

BIN_DIR = Path(sys.executable).parent

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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def graphql(port: int, query: str, variables: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["data"]


def wait_for(what: str, predicate: Callable[[], T], timeout: float, interval: float = 1.0) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except OSError:
            value = None
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def isolated_dagster_home(root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point this test's environment at its own warehouse, landing zone and Dagster home.

    The home gets the project's dagster.yaml and the writer pool limited to 1, as `make dev`
    sets it. Returns the home; every process started afterwards inherits the environment.
    """
    home = root / "dagster_home"
    for name, value in {
        "ORDERS_WAREHOUSE": str(root / "warehouse.duckdb"),
        "ORDERS_LANDING_DIR": str(root / "landing"),
        "ORDERS_DBT_TARGET": "dev",
        "DAGSTER_HOME": str(home),
        "DO_NOT_TRACK": "1",
    }.items():
        monkeypatch.setenv(name, value)
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    subprocess.run(
        [str(BIN_DIR / "dagster"), "instance", "concurrency", "set", WRITER_POOL, "1"],
        check=True,
        capture_output=True,
    )
    return home


@contextmanager
def dagster_dev(log_path: Path, env: dict[str, str] | None = None) -> Iterator[int]:
    """Run `dagster dev` on a free loopback port until the block ends; yields the port.

    The environment is the current one plus `env`. The server runs in its own session, so
    stopping it (SIGTERM, then SIGKILL after a minute) reaches every process it started.
    """
    port = free_port()
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [
                str(BIN_DIR / "dagster"),
                "dev",
                "-m",
                "orders_platform.definitions",
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
            ],
            cwd=REPO_ROOT,
            env={**os.environ, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_for("the webserver", lambda: graphql(port, "{ version }"), timeout=180)
            yield port
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                server.wait(timeout=60)
            # and any process of its session that outlived `dagster dev` itself
            with suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)
            server.wait()


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
