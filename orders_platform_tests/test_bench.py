"""`make bench` at a smoke size: it runs, and reports every figure. No timing is asserted."""

import json
import math
import subprocess
import sys
from datetime import date

from benchmarks.floor import floor_remerge
from orders_platform.settings import REPO_ROOT
from orders_platform_tests.tables import table_contents

EXPECTED_ROWS = {
    "ingest_rate",
    "full_build_wall",
    "daily_wall",
    "daily_dbt",
    "daily_overhead",
    "daily_process",
    "remerge_wall",
    "remerge_sql",
    "floor",
    "lateness_wall",
    "history_wall",
    "sql_vs_floor",
    "full_sql",
    "full_vs_remerge",
    "detect_tick",
    "detect_first_tick",
    "daily_wall_long",
    "daily_dbt_long",
    "daily_ratio",
    "daily_dbt_ratio",
    "remerge_wall_long",
    "sql_vs_floor_long",
    "full_vs_remerge_long",
    "detect_tick_long",
    "peak_rss",
}


def test_the_benchmark_reports_every_figure_at_smoke_size(tmp_path):
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
            str(tmp_path),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    results = json.loads((tmp_path / "results.json").read_text())
    rows = {row["key"]: row for row in results["rows"]}
    assert set(rows) == EXPECTED_ROWS
    for row in rows.values():
        assert math.isfinite(row["value"]) and row["value"] > 0, row
        assert row["label"] in completed.stdout
    assert results["machine"]["cores"] >= 1
    assert (tmp_path / "results.md").read_text().count("\n| ") == len(EXPECTED_ROWS) + 1
    assert not (tmp_path / "run").exists()  # the big files are deleted


def test_the_floor_merges_exactly_what_the_models_merge(late_landed_platform, late_merged_snapshot):
    # the same history and the same late wave: re-merged by hand here, by dbt in the snapshot
    floor = late_landed_platform
    with floor.connect() as conn:
        floor_remerge(conn, date(2026, 3, 1), date(2026, 3, 15))
    by_dbt = late_merged_snapshot.root / "warehouse.duckdb"
    for table in ("fct_orders", "revenue_daily"):
        assert table_contents(floor.warehouse, table) == table_contents(by_dbt, table), table
