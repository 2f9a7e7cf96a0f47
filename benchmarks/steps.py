"""The steps that are not Dagster runs, each in its own child process: `python -m
benchmarks.steps`. Dagster runs are launched as users launch them (`benchmarks.runs`).

Here: loading the generated files stamped with their arrival times (building the platform),
the hand-written floor, a full refresh, late-data detection and the longer history. A child
reads its paths from the environment the parent sets (ORDERS_WAREHOUSE, ORDERS_LANDING_DIR,
DAGSTER_HOME, ...) and writes its measurements as JSON to the file named on its command
line. Timings are taken inside the child around the work itself; the parent adds the
child's wall time and peak RSS.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from itertools import groupby
from pathlib import Path
from typing import Any

from benchmarks.runs import MERGE_MODELS
from orders_platform import settings
from orders_platform.dbt_project import dbt_executable
from orders_platform.ingestion.contract import LANDING_FILE_GLOB
from orders_platform.resources.warehouse import connect_warehouse


def _instance():
    from dagster import DagsterInstance

    return DagsterInstance.get()


def ingest(outbox: str, files: list[str]) -> dict[str, Any]:
    """Land each arrival day's files and load them as one load arriving at the end of that
    day: the bench's history, stamped with its arrival times so that lateness is real. Not a
    reported figure: ingestion is measured as a Dagster run (`__main__._measure_ingestion`)."""
    from benchmarks.volume import arrival_day
    from orders_platform.ingestion.landed_days import record_day_versions
    from orders_platform.ingestion.loader import load_new_files

    landing = settings.landing_dir()
    landing.mkdir(parents=True, exist_ok=True)
    instance = _instance()
    lines = loaded = rejected = 0
    seconds: list[float] = []
    for day, names in groupby(sorted(files), key=lambda name: arrival_day(Path(name))):
        for name in names:
            shutil.move(Path(outbox, name), landing / name)
        arrived = datetime.combine(day, datetime.max.time(), tzinfo=UTC)
        started = time.perf_counter()
        with connect_warehouse(settings.warehouse_path()) as conn:
            report = load_new_files(conn, landing, ingested_at=arrived)
            versions = dict(
                conn.execute("select order_date, version from orders_landing_days").fetchall()
            )
        seconds.append(time.perf_counter() - started)
        record_day_versions(instance, versions, report.touched_days)
        lines += report.lines
        loaded += report.loaded
        rejected += report.rejected
    return {"lines": lines, "loaded": loaded, "rejected": rejected, "seconds": seconds}


def _dbt_target() -> Path:
    """Where dbt writes artifacts (DBT_TARGET_PATH; relative paths are in the dbt project)."""
    return settings.DBT_PROJECT_DIR / os.environ.get("DBT_TARGET_PATH", "target")


def floor(copy: str, first: str, last: str, repeats: int) -> dict[str, Any]:
    """The hand-written re-merge of [first, last], `repeats` times, on a copy of the warehouse."""
    from benchmarks.floor import floor_remerge

    start, end = date.fromisoformat(first), date.fromisoformat(last) + timedelta(days=1)
    seconds = []
    with connect_warehouse(Path(copy)) as conn:
        for _ in range(repeats):
            started = time.perf_counter()
            floor_remerge(conn, start, end)
            seconds.append(time.perf_counter() - started)
    return {"seconds": seconds}


def floor_ingest(warehouse: str, landing: str) -> dict[str, Any]:
    """The hand-written ingestion of every file in `landing`, into a fresh `warehouse`."""
    from benchmarks.floor import floor_ingest as load

    files = sorted(str(path) for path in Path(landing).glob(LANDING_FILE_GLOB))
    with connect_warehouse(Path(warehouse)) as conn:
        started = time.perf_counter()
        loaded, rejected = load(conn, files)
        seconds = time.perf_counter() - started
    Path(warehouse).unlink()
    return {"seconds": seconds, "loaded": loaded, "rejected": rejected}


def full_refresh(copy: str) -> dict[str, Any]:
    """`dbt run --full-refresh` of fct_orders and revenue_daily, on a copy, dev target.

    Production refuses full refreshes (on-run-start hook); the copy is a dev warehouse.
    """
    target = _dbt_target() / f"full-refresh-{time.time_ns()}"
    env = {
        **os.environ,
        "ORDERS_WAREHOUSE": copy,
        "ORDERS_DBT_TARGET": "dev",
        "DBT_TARGET_PATH": str(target),
    }
    command = [dbt_executable(), "run", "--full-refresh", "--target", "dev"]
    command += ["--select", "fct_orders", "revenue_daily"]
    started = time.perf_counter()
    done = subprocess.run(
        command, cwd=settings.DBT_PROJECT_DIR, env=env, capture_output=True, text=True
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(done.stdout[-3000:])
    results = json.loads((target / "run_results.json").read_text())
    shutil.rmtree(target)
    nodes = {r["unique_id"]: r["execution_time"] for r in results["results"]}
    return {"dbt_wall": wall, "merge_sql": sum(nodes[m] for m in MERGE_MODELS)}


def detect(ticks: int, late_day: str) -> dict[str, Any]:
    """Late-data detection ticks: observe landed_order_days, evaluate the marts' automation.

    Before every tick but the first, late data lands for `late_day` the way ingestion
    reports it (a new day version, published and observed), so each tick has a stale
    partition to find. The first tick has no sensor cursor, like a sensor just started.
    """
    from dagster import AssetSelection, evaluate_automation_conditions

    from orders_platform.definitions import defs
    from orders_platform.ingestion.landed_days import landed_order_days, record_day_versions
    from orders_platform.transform.groups import MARTS

    instance = _instance()
    with connect_warehouse(settings.warehouse_path(), read_only=True) as conn:
        versions = dict(
            conn.execute("select order_date, version from orders_landing_days").fetchall()
        )
    observe_seconds, evaluate_seconds, requested = [], [], []
    cursor = None
    for tick in range(ticks):
        if tick:
            versions[date.fromisoformat(late_day)] = f"bench-late-{tick}"
            record_day_versions(instance, versions, [date.fromisoformat(late_day)])
        started = time.perf_counter()
        landed_order_days.observe_fn()
        observe_seconds.append(time.perf_counter() - started)
        started = time.perf_counter()
        result = evaluate_automation_conditions(
            defs=defs,
            instance=instance,
            asset_selection=AssetSelection.groups(MARTS),
            cursor=cursor,
        )
        evaluate_seconds.append(time.perf_counter() - started)
        cursor = result.cursor
        requested.append(result.total_requested)
    return {"observe": observe_seconds, "evaluate": evaluate_seconds, "requested": requested}


def extend(generated_days: int, history_days: int) -> dict[str, Any]:
    """Grow the history to `history_days` by SQL copies, and tell Dagster the marts exist."""
    from dagster import AssetKey, AssetMaterialization

    from benchmarks.volume import extend_history
    from orders_platform.ingestion.landed_days import publish_versions
    from orders_platform.transform.assets import orders_daily_dbt_models

    started = time.perf_counter()
    with connect_warehouse(settings.warehouse_path()) as conn:
        # the copies within the memory the platform's own runs get (dbt/profiles.yml)
        conn.execute(f"set memory_limit = '{os.environ.get('ORDERS_DUCKDB_MEMORY_LIMIT', '3GB')}'")
        added = extend_history(conn, generated_days=generated_days, history_days=history_days)
        versions = dict(
            conn.execute("select order_date, version from orders_landing_days").fetchall()
        )
        (events,) = conn.execute("select count(*) from orders_landing").fetchone()
        (first_day,) = conn.execute("select min(order_date) from fct_orders").fetchone()
    seconds = time.perf_counter() - started
    publish_versions(versions)
    instance = _instance()
    for key in orders_daily_dbt_models.keys:
        for day in added:
            instance.report_runless_asset_event(
                AssetMaterialization(asset_key=AssetKey(key.path), partition=day.isoformat())
            )
    return {
        "seconds": seconds,
        "days_added": len(added),
        "events": events,
        "first_day": first_day.isoformat(),
    }


STEPS: dict[str, Callable[..., dict[str, Any]]] = {
    "ingest": ingest,
    "floor": floor,
    "floor_ingest": floor_ingest,
    "full_refresh": full_refresh,
    "detect": detect,
    "extend": extend,
}


def main() -> None:
    step, output, arguments = sys.argv[1], Path(sys.argv[2]), json.loads(sys.argv[3])
    output.write_text(json.dumps(STEPS[step](**arguments), default=str))


if __name__ == "__main__":
    main()
