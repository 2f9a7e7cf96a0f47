"""The engine comparison of `make bench` at a smoke size: every figure, on both engines."""

import json
import math
import subprocess
import sys

import pytest

from benchmarks.engines import ENGINES
from orders_platform.settings import REPO_ROOT

pytestmark = pytest.mark.spark

FIGURES = ("ingest_job", "daily_wall", "daily_dbt", "remerge_wall", "remerge_sql", "peak_rss_gb")


def test_the_engine_comparison_reports_every_figure_for_duckdb_and_spark(tmp_path):
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.engines",
            "--days",
            "2",
            "--events-per-day",
            "400",
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
    document = json.loads((tmp_path / "engines.json").read_text())
    rows = {row["key"]: row["value"] for row in document["rows"]}
    expected = {f"{engine}_{figure}" for engine in ENGINES for figure in FIGURES} | {
        "spark_vs_duckdb_daily_wall",
        "spark_vs_duckdb_remerge_wall",
        "spark_vs_duckdb_remerge_sql",
    }
    assert set(rows) == expected
    assert all(math.isfinite(value) and value > 0 for value in rows.values()), rows
    assert "spark / duckdb" in (tmp_path / "engines.md").read_text()
    assert not (tmp_path / "engines").exists()  # the warehouses are removed without --keep
