"""`python -m benchmarks.engines`: the same small traffic on DuckDB and on Spark.

`make bench` runs it after the main benchmark. Spark's costs are start-up costs at any size
a laptop holds (a JVM, a Hive metastore, a dbt-spark session per dbt invocation), so the
comparison uses a small size (BENCH_COMPARE_DAYS, BENCH_COMPARE_EVENTS_PER_DAY) and every
step is the same Dagster job on both engines: landing to staging (`ingest_orders_job`),
the first merge of every day, one daily partition run and the re-merge window, each a run in
a fresh `dagster` process (`benchmarks.runs`), as in the main benchmark.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.child import Bench
from benchmarks.report import Row, machine, med, render_markdown, render_text
from benchmarks.volume import TrafficShape, write_arrival_files
from orders_platform import settings

ENGINES = ("duckdb", "spark")
# The main benchmark's traffic in one landing file per arrival day: the Spark loader unions
# one DataFrame per file into a single plan, and one ingestion run over two days' hourly
# files (48) exhausted the Spark driver's default heap (java.lang.OutOfMemoryError).
SHAPE = TrafficShape(file_hours=24)


def _options() -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=int(env("BENCH_COMPARE_DAYS", 14)))
    parser.add_argument(
        "--events-per-day", type=int, default=int(env("BENCH_COMPARE_EVENTS_PER_DAY", 20_000))
    )
    parser.add_argument("--repeats", type=int, default=int(env("BENCH_REPEATS", 3)))
    parser.add_argument("--dir", type=Path, default=Path(env("BENCH_DIR", "data/bench")))
    parser.add_argument("--keep", action="store_true", help="keep the warehouses and logs")
    return parser.parse_args()


def _engine_env(root: Path, engine: str) -> dict[str, str]:
    return {
        **os.environ,
        "ORDERS_ENGINE": engine,
        "ORDERS_WAREHOUSE": str(root / "warehouse.duckdb"),
        "ORDERS_SPARK_WAREHOUSE": str(root / "spark-warehouse"),
        "ORDERS_LANDING_DIR": str(root / "landing"),
        "ORDERS_DBT_TARGET": "dev",
        "DAGSTER_HOME": str(root / "dagster_home"),
        "DO_NOT_TRACK": "1",
        "DBT_TARGET_PATH": str(root / "dbt_target"),
    }


def measure_engine(
    root: Path, engine: str, outbox: Path, first: str, last: str, repeats: int
) -> dict[str, Any]:
    """Land `outbox`'s files and run the same jobs as the main benchmark on `engine`."""
    (root / "dagster_home").mkdir(parents=True)
    shutil.copytree(outbox, root / "landing")
    bench = Bench(root=root, repeats=repeats, env=_engine_env(root, engine))
    ingest = bench.run("ingest", "ingest_orders_job")
    bench.run("full-build", "orders_daily_job", first, last)
    daily = [bench.run(f"daily-{i}", "orders_daily_job", last, last) for i in range(repeats)]
    remerge = [bench.run(f"remerge-{i}", "orders_daily_job", first, last) for i in range(repeats)]
    return {
        "ingest_job": ingest["process_wall"],
        "daily_wall": med([d["process_wall"] for d in daily]),
        "daily_dbt": med([d["dbt_elapsed"] for d in daily]),
        "remerge_wall": med([d["process_wall"] for d in remerge]),
        "remerge_sql": med([d["merge_sql"] for d in remerge]),
        "peak_rss_gb": max(bench.peak_rss.values()) / 1024**3,
        "samples": bench.samples,
    }


def comparison_rows(days: int, measured: dict[str, dict[str, Any]]) -> list[Row]:
    """One row per engine and figure, then Spark's cost relative to DuckDB's."""
    labels = {
        "ingest_job": ("landing to staging (ingest_orders_job), its process", "s"),
        "daily_wall": ("daily partition run, its process", "s"),
        "daily_dbt": ("  of which dbt's own work", "s"),
        "remerge_wall": (f"{days}-day re-merge, one run, its process", "s"),
        "remerge_sql": (f"{days}-day re-merge, its SQL (fct_orders + revenue_daily)", "s"),
        "peak_rss_gb": ("peak RSS, heaviest step", "GB"),
    }
    rows = [
        Row(f"{engine}_{key}", f"{engine}: {label}", measured[engine][key], unit)
        for engine in ENGINES
        for key, (label, unit) in labels.items()
    ]
    for key in ("daily_wall", "remerge_wall", "remerge_sql"):
        rows.append(
            Row(
                f"spark_vs_duckdb_{key}",
                f"spark / duckdb: {labels[key][0].strip()}",
                measured["spark"][key] / measured["duckdb"][key],
                "x",
            )
        )
    return rows


def main() -> int:
    options = _options()
    out_dir = settings.resolve_path(options.dir)
    root = out_dir / "engines"
    shutil.rmtree(root, ignore_errors=True)
    load_start = machine()["load_average"]
    end_date = datetime.now(UTC).date() - timedelta(days=1)
    generated = write_arrival_files(
        root / "outbox",
        end_date=end_date,
        days=options.days,
        events_per_day=options.events_per_day,
        shape=SHAPE,
    )
    first = (end_date - timedelta(days=options.days - 1)).isoformat()
    measured = {
        engine: measure_engine(
            root / engine, engine, root / "outbox", first, end_date.isoformat(), options.repeats
        )
        for engine in ENGINES
    }
    for engine in ENGINES:
        print(f"{engine}: measured")
    rows = comparison_rows(options.days, measured)
    context = {
        "command": "python -m benchmarks.engines " + shlex.join(sys.argv[1:]),
        "machine": machine(),
        "load_start": load_start,
        "repeats": options.repeats,
        "data": (
            f"{options.days} days generated, {generated.lines:,} lines in one file per arrival "
            f"day ({SHAPE.describe()}), the same files on "
            f"both engines (Spark: {settings.spark_master()} via ORDERS_SPARK_MASTER)"
        ),
        "note": "Other processes share this machine: see the load average.",
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "engines.md").write_text(render_markdown(rows, context))
    document = {**context, "rows": [row.as_dict() for row in rows], "measured": measured}
    (out_dir / "engines.json").write_text(json.dumps(document, indent=2, default=str))
    print(render_text(rows))
    print(f"written: {out_dir / 'engines.md'}, {out_dir / 'engines.json'}")
    if not options.keep:
        shutil.rmtree(root)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
