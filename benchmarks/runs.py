"""Measured Dagster runs, each launched the way a user's run is: a fresh `dagster` process.

A run is `dagster job execute -m orders_platform.definitions -j <job>` with the partition
(`dagster/partition`) or the partition range (`dagster/asset_partition_range_start`/`_end`,
one run for the range: the marts' single-run backfill policy) as tags: the same job the
schedules and sensors launch, executed by a process that imports Dagster, loads the code
location and the dbt manifest, creates the run and ends with it. Its wall time is what a
user waits for. `dagster asset materialize --partition-range` runs the same work under
Dagster's implicit asset job; the named jobs are measured because automation launches them.

After the process exits, the run's own event log (read through the instance) says where its
time went, from the process start to its exit, in contiguous phases (`PHASES`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus, RunsFilter
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
    PARTITION_NAME_TAG,
)

from orders_platform.settings import DBT_PROJECT_DIR, REPO_ROOT

CODE_LOCATION = "orders_platform.definitions"
DAGSTER = str(Path(sys.executable).parent / "dagster")
# Tags every measured run with its benchmark label, so the run is found in the instance.
LABEL_TAG = "benchmarks/label"
# The models a window re-merge rebuilds; "its SQL" is their dbt node execution time.
MERGE_MODELS = ("model.orders_platform.fct_orders", "model.orders_platform.revenue_daily")

# A run's wall time, process start to exit, as contiguous phases (their sum is the wall time).
PHASES: dict[str, str] = {
    "process_to_run_created": "process start -> run created (Python, imports, definitions)",
    "run_created_to_start": "run created -> RUN_START (run record, planned events)",
    "run_start_to_step": "RUN_START -> first STEP_START (resources, bookkeeping)",
    "dbt_step_to_dbt_start": "dbt step start -> dbt's first log line (dagster-dbt set-up)",
    "dbt_start_to_first_node": "dbt's first log line -> first node (project load, adapter)",
    "dbt_nodes": "dbt nodes, first start -> last end",
    "dbt_last_node_to_exit": "dbt's last node -> dbt's last log line",
    "dbt_publishing": "dbt's last log line -> dbt STEP_SUCCESS (publishing events)",
    "other_steps": "steps other than dbt's (loading files, checks outside dbt)",
    "last_step_to_run_end": "last STEP_SUCCESS -> RUN_SUCCESS (bookkeeping)",
    "run_end_to_exit": "RUN_SUCCESS -> process exit",
}


@dataclass(frozen=True)
class Launched:
    """One finished run's process: when it started and exited (epoch), its peak RSS."""

    run_id: str
    started: float
    exited: float
    wall: float  # monotonic clock, process start to exit
    peak_rss: int  # bytes, the process and every process it waited for


def run_tags(first: str | None, last: str | None) -> dict[str, str]:
    """The tags that make a run of an asset job cover one partition or a range in one run."""
    if first is None:
        return {}
    if first == last:
        return {PARTITION_NAME_TAG: first}
    return {ASSET_PARTITION_RANGE_START_TAG: first, ASSET_PARTITION_RANGE_END_TAG: last}


def launch(
    job: str,
    first: str | None,
    last: str | None,
    *,
    env: Mapping[str, str],
    log: Path,
) -> Launched:
    """Run `job` over `first`..`last` in a fresh `dagster job execute` process.

    The RSS is the kernel's for the process and every process it waited for, read with
    wait4 when it exits. A failed process or a run not ending in SUCCESS fails the bench.
    """
    label = uuid.uuid4().hex
    tags = {**run_tags(first, last), LABEL_TAG: label}
    command = [DAGSTER, "job", "execute", "-m", CODE_LOCATION, "-j", job]
    command += ["--tags", json.dumps(tags)]
    with log.open("w") as out:
        started = time.time()
        clock = time.perf_counter()
        child = subprocess.Popen(
            command, env=dict(env), cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT
        )
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - clock
        exited = time.time()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{job} {first}..{last} failed; see {log}")
    with DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        (record,) = instance.get_run_records(RunsFilter(tags={LABEL_TAG: label}))
    if record.dagster_run.status != DagsterRunStatus.SUCCESS:
        raise SystemExit(f"{job} {first}..{last}: run {record.dagster_run.run_id} did not succeed")
    return Launched(record.dagster_run.run_id, started, exited, wall, usage.ru_maxrss * 1024)


def _stamp(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def dbt_invocation(run_id: str, target: Path) -> dict[str, Any] | None:
    """dbt's own account of the run's invocation, if it ran dbt: run_results.json and dbt.log
    in the invocation's directory under `target` (removed after: a bench makes many)."""
    found = list(target.glob(f"*-{run_id[:7]}-*/run_results.json"))
    if not found:
        return None
    (path,) = found
    results = json.loads(path.read_text())
    stamps = [
        json.loads(line)["info"]["ts"]
        for line in (path.parent / "dbt.log").read_text().splitlines()
    ]
    timings = [t for r in results["results"] for t in r["timing"]]
    nodes = {r["unique_id"]: r["execution_time"] for r in results["results"]}
    shutil.rmtree(path.parent)
    return {
        "elapsed": results["elapsed_time"],
        "first_log": _stamp(stamps[0]),
        "last_log": _stamp(stamps[-1]),
        "first_node": min(_stamp(t["started_at"]) for t in timings),
        "last_node": max(_stamp(t["completed_at"]) for t in timings),
        "node_seconds": sum(nodes.values()),
        "merge_sql": sum(nodes.get(model, 0.0) for model in MERGE_MODELS),
        "nodes": nodes,
    }


def breakdown(home: Path, launched: Launched, dbt_target: Path) -> dict[str, Any]:
    """Where the run's wall time went, from its event log and dbt's artifacts.

    Phases are differences of timestamps taken in order, so each is >= 0 and they add up to
    the process's wall time; anything else means the stamps are not of one run.
    """
    with DagsterInstance.from_config(str(home)) as instance:
        record = instance.get_run_record_by_id(launched.run_id)
        entries = instance.all_logs(launched.run_id)
    created = record.create_timestamp.timestamp()
    at: dict[str, float] = {}
    steps: dict[str, list[float]] = {}
    for entry in entries:
        kind = entry.dagster_event_type
        if kind in (DagsterEventType.RUN_START, DagsterEventType.RUN_SUCCESS):
            at[kind.value] = entry.timestamp
        elif kind in (DagsterEventType.STEP_START, DagsterEventType.STEP_SUCCESS):
            steps.setdefault(entry.step_key, []).append(entry.timestamp)
    run_start = at[DagsterEventType.RUN_START.value]
    run_end = at[DagsterEventType.RUN_SUCCESS.value]
    first_step = min(start for start, _ in steps.values())
    last_step = max(end for _, end in steps.values())
    phases = dict.fromkeys(PHASES, 0.0)
    phases |= {
        "process_to_run_created": created - launched.started,
        "run_created_to_start": run_start - created,
        "run_start_to_step": first_step - run_start,
        "other_steps": last_step - first_step,
        "last_step_to_run_end": run_end - last_step,
        "run_end_to_exit": launched.exited - run_end,
    }
    dbt = dbt_invocation(launched.run_id, dbt_target)
    measured: dict[str, Any] = {"run_id": launched.run_id, "process_wall": launched.wall}
    if dbt is not None:
        # the step whose span holds dbt's invocation
        start, end = next(
            (start, end) for start, end in steps.values() if start <= dbt["first_log"] <= end
        )
        phases |= {
            "dbt_step_to_dbt_start": dbt["first_log"] - start,
            "dbt_start_to_first_node": dbt["first_node"] - dbt["first_log"],
            "dbt_nodes": dbt["last_node"] - dbt["first_node"],
            "dbt_last_node_to_exit": dbt["last_log"] - dbt["last_node"],
            "dbt_publishing": end - dbt["last_log"],
            "other_steps": phases["other_steps"] - (end - start),
        }
        measured |= {
            "dbt_elapsed": dbt["elapsed"],
            "dbt_node_seconds": dbt["node_seconds"],
            "merge_sql": dbt["merge_sql"],
            "nodes": dbt["nodes"],
        }
    # what the run pays whatever its work: everything but dbt's nodes
    measured["fixed_cost"] = launched.wall - phases["dbt_nodes"]
    return measured | {"phases": phases}


# What every run's process pays before its own work, on bare interpreters: the libraries'
# imports, then the definitions (which load the dbt manifest), timed inside one process.
_TIME_IMPORTS = """
import json, time
started = time.perf_counter()
import dagster, dagster_dbt
imported = time.perf_counter()
import orders_platform.definitions
print(json.dumps([imported - started, time.perf_counter() - imported]))
"""


def bare_costs(env: Mapping[str, str], repeats: int) -> dict[str, float]:
    """The fastest of at least three bare processes each: the interpreter's start and exit
    (`python -c pass`), `import dagster, dagster_dbt`, then loading
    `orders_platform.definitions` and the manifest. The fastest, because other load on the
    machine only ever adds to them, and they split a phase measured in every run."""
    samples: dict[str, list[float]] = {"interpreter": [], "imports": [], "definitions": []}
    for _ in range(max(3, repeats)):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], env=dict(env), cwd=REPO_ROOT, check=True)
        samples["interpreter"].append(time.perf_counter() - started)
        timed = subprocess.run(
            [sys.executable, "-c", _TIME_IMPORTS],
            env=dict(env),
            cwd=REPO_ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
        imports, definitions = json.loads(timed.stdout.splitlines()[-1])
        samples["imports"].append(imports)
        samples["definitions"].append(definitions)
    return {name: min(values) for name, values in samples.items()}


def dbt_target(env: Mapping[str, str]) -> Path:
    """Where dbt writes its artifacts in `env` (DBT_TARGET_PATH, relative to the project)."""
    return DBT_PROJECT_DIR / env.get("DBT_TARGET_PATH", "target")
