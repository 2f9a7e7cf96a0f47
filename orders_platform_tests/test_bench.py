"""`make bench` at a smoke size: it runs, reports every figure, and what it reports are real
Dagster runs whose time is fully accounted for. No timing is asserted."""

import json
import math
import subprocess
import sys
from datetime import date

import pytest
from dagster import DagsterInstance, DagsterRunStatus

from benchmarks.floor import floor_remerge
from benchmarks.runs import PHASES
from orders_platform.settings import REPO_ROOT
from orders_platform_tests.tables import table_contents

EXPECTED_ROWS = {
    "ingest_rate",
    "full_build",
    "remerge",
    "remerge_sql",
    "remerge_sql_vs_floor",
    "daily",
    "daily_fixed",
    "daily_dbt",
    "lateness",
    "history",
    "full_refresh_sql",
    "detect_tick",
    "full_build_long",
    "full_build_long_vs_floor",
    "daily_long",
    "daily_long_ratio",
    "remerge_long",
    "remerge_long_ratio",
    "remerge_sql_vs_floor_long",
    "peak_rss",
}
# The measured runs' jobs: each kind of run the bench reports, and the runs building it.
RUN_KINDS = {
    "ingestion": "ingest_orders_job",
    "staging": "ingest_orders_job",
    "full-build": "orders_daily_job",
    "2d-daily": "orders_daily_job",
    "2d-remerge": "orders_daily_job",
    "2d-lateness": "orders_lateness_job",
    "2d-history": "orders_history_job",
    "4d-daily": "orders_daily_job",
    "4d-remerge": "orders_daily_job",
    "4d-full-build": "orders_daily_job",
}


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory):
    """One smoke-size `python -m benchmarks`, its working files kept; its output and
    results.json."""
    directory = tmp_path_factory.mktemp("bench")
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "--days",
            "2",
            "--events-per-day",
            "3000",
            "--history-days",
            "4",
            "--repeats",
            "1",
            "--dir",
            str(directory),
            "--keep",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return directory, completed.stdout, json.loads((directory / "results.json").read_text())


def test_the_benchmark_reports_every_figure_at_smoke_size(bench):
    directory, stdout, results = bench
    rows = {row["key"]: row for row in results["rows"]}
    assert set(rows) == EXPECTED_ROWS
    markdown = (directory / "results.md").read_text()
    for row in rows.values():
        assert math.isfinite(row["value"]) and row["value"] > 0, row
        assert row["label"] in stdout and row["label"] in markdown
        if row["target"]:
            assert row["margin"].startswith("MET" if row["meets"] else "MISSED"), row
    assert results["machine"]["cores"] >= 1
    for label in PHASES.values():
        assert label in stdout and label in markdown
    assert all(seconds > 0 for seconds in results["bare_process"].values())


def test_every_measured_run_is_a_successful_dagster_run_of_its_job(bench):
    directory, _, results = bench
    samples = results["samples"]
    assert set(RUN_KINDS) <= set(samples)
    for kind, job in RUN_KINDS.items():
        # ingestion runs on a platform of its own, with its own Dagster home
        platform = directory / "run" / ("ingestion" if kind == "ingestion" else "")
        with DagsterInstance.from_config(str(platform / "dagster_home")) as instance:
            for sample in samples[kind]:
                run = instance.get_run_by_id(sample["run_id"])
                assert run is not None, (kind, sample["run_id"])
                assert (run.job_name, run.status) == (job, DagsterRunStatus.SUCCESS), kind


def test_each_runs_phases_add_up_to_its_process_wall_time(bench):
    _, _, results = bench
    runs = [s for samples in results["samples"].values() for s in samples if "phases" in s]
    assert len(runs) >= len(RUN_KINDS)
    for run in runs:
        phases = run["phases"]
        assert set(phases) == set(PHASES)
        assert all(seconds >= -0.01 for seconds in phases.values()), phases
        assert sum(phases.values()) == pytest.approx(run["process_wall"], rel=0.02, abs=0.05)
        assert phases["dbt_nodes"] > 0, run["run_id"]  # every measured run runs dbt
        assert 0 < run["fixed_cost"] < run["process_wall"]


def test_the_floor_merges_exactly_what_the_models_merge(late_landed_platform, late_merged_snapshot):
    # the same history and the same late wave: re-merged by hand here, by dbt in the snapshot
    floor = late_landed_platform
    with floor.connect() as conn:
        floor_remerge(conn, date(2026, 3, 1), date(2026, 3, 15))
    by_dbt = late_merged_snapshot.root / "warehouse.duckdb"
    for table in ("fct_orders", "revenue_daily"):
        assert table_contents(floor.warehouse, table) == table_contents(by_dbt, table), table
