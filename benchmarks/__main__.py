"""`make bench` / `python -m benchmarks`: measure the platform at real volume.

Every measured Dagster run is launched as users' runs are, a fresh `dagster` process per run
(`benchmarks.runs`), and timed as a whole: what a user waits for. Each figure is printed
beside the hand-written DuckDB floor of the same work (`benchmarks.floor`) from the same
invocation, and beside its target, with where each run's time went.

Options come from flags or the environment (flags win): BENCH_DAYS (30),
BENCH_EVENTS_PER_DAY (650000), BENCH_HISTORY_DAYS (180), BENCH_REPEATS (3), BENCH_DIR
(data/bench), and the traffic's shape (`benchmarks.volume.TrafficShape`, BENCH_* too).
Everything happens on a fresh DuckDB file and Dagster home under BENCH_DIR, deleted at the
end (results.md and results.json stay) unless --keep is given.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.breakdown import BreakdownColumn, render_breakdown
from benchmarks.child import Bench
from benchmarks.dagster_dev import platform_env, prepare_dagster_home
from benchmarks.report import Row, machine, med, render_text, write
from benchmarks.runs import bare_costs
from benchmarks.volume import TrafficShape
from orders_platform import settings
from orders_platform.dbt_project import dbt_executable
from orders_platform.ingestion.contract import LANDING_FILE_GLOB
from orders_platform.resources.warehouse import connect_warehouse

GB = 1024**3


def _options() -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--days", type=int, default=int(env("BENCH_DAYS", 30)), help="days of generated traffic"
    )
    parser.add_argument(
        "--events-per-day",
        type=int,
        default=int(env("BENCH_EVENTS_PER_DAY", 650_000)),
        help="generated lines per day",
    )
    parser.add_argument(
        "--history-days",
        type=int,
        default=int(env("BENCH_HISTORY_DAYS", 180)),
        help="the longer history the runs are measured at again (0: skip)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=int(env("BENCH_REPEATS", 3)),
        help="runs of the one-partition run, the re-merge and its floor (medians reported)",
    )
    parser.add_argument(
        "--dir",
        type=Path,
        default=Path(env("BENCH_DIR", "data/bench")),
        help="where results.md and results.json are written",
    )
    parser.add_argument("--keep", action="store_true", help="keep the warehouse and logs")
    TrafficShape.add_arguments(parser)
    return parser.parse_args()


# Issue 29's targets, at the default size, each run its own process, 2 cores (the detection
# tick's is issue 16's).
INGEST_RATE = 600_000  # events/s, at least
FULL_BUILD = 27.0  # s
REMERGE = 17.0  # s
REMERGE_SQL_VS_FLOOR = 1.2  # x
DAILY = 6.0  # s
FIXED_COST = 3.0  # s, a one-partition run
PEAK_RSS = 4.0  # GB
FULL_BUILD_LONG_VS_FLOOR = 2.0  # x
LONG_VS_BASE = 1.2  # x, the daily run and the re-merge at the long history over the base
DETECT_TICK = 1.0  # s


def _runs(bench: Bench, label: str, job: str, first: str, last: str, times: int) -> list[dict]:
    return [bench.run(f"{label}-{i}", job, first, last) for i in range(times)]


def _median_of(samples: list[dict], key: str) -> float:
    return med([sample[key] for sample in samples])


def _measure_history(
    bench: Bench,
    tag: str,
    end: str,
    window: tuple[str, str],
    full: tuple[str, str],
    *,
    reports: bool = False,
    full_build: bool = False,
) -> dict[str, Any]:
    """At one history: the daily run, the window re-merge and their floor, the full build
    (with `full_build`; else `Bench.build` measured it) and its floor, late-data detection;
    with `reports`, also the runs automation starts after a re-merge (lateness, history),
    once each as they block nothing, and a full refresh."""
    r = bench.repeats
    daily = _runs(bench, f"{tag}-daily", "orders_daily_job", end, end, r)
    remerge = _runs(bench, f"{tag}-remerge", "orders_daily_job", *window, r)
    measured: dict[str, Any] = {"daily": daily, "remerge": remerge}
    if reports:
        for name, job in (("lateness", "orders_lateness_job"), ("history", "orders_history_job")):
            measured[name] = _runs(bench, f"{tag}-{name}", job, *window, 1)
    if full_build:
        measured["full_build"] = _runs(bench, f"{tag}-full-build", "orders_daily_job", *full, 1)
    copy = bench.copy_warehouse("floor.duckdb")
    floor = bench.step(
        f"{tag}-floor", "floor", copy=str(copy), first=window[0], last=window[1], repeats=r
    )
    full_floor = bench.step(
        f"{tag}-full-floor", "floor", copy=str(copy), first=full[0], last=full[1], repeats=1
    )
    copy.unlink()
    if reports:
        copy = bench.copy_warehouse("full-refresh.duckdb")
        measured["full_refresh_sql"] = bench.step(
            f"{tag}-full-refresh", "full_refresh", copy=str(copy)
        )["merge_sql"]
        copy.unlink()
    detect = bench.step(f"{tag}-detect", "detect", ticks=r + 1, late_day=window[0])
    return measured | {
        "floor": med(floor["seconds"]),
        "full_floor": med(full_floor["seconds"]),
        # the first tick has no sensor cursor (a fresh sensor); later ticks are the steady state
        "detect_tick": med(
            [o + e for o, e in zip(detect["observe"][1:], detect["evaluate"][1:], strict=True)]
        ),
    }


def _rows(
    days: int, history: int, window_days: int, ingest: dict, at: dict[int, dict], bench: Bench
) -> list[Row]:
    base = at[days]
    daily, remerge, full = base["daily"], base["remerge"], base["full_build"]
    rate = ingest["events"] / ingest["process_wall"]
    remerge_sql = _median_of(remerge, "merge_sql")
    rows = [
        Row(
            "ingest_rate",
            f"ingestion: {ingest['files']} files in one run, events/s of its process",
            rate,
            "events/s",
            floor=ingest["floor_rate"],
            limit=INGEST_RATE,
            at_least=True,
        ),
        Row(
            "full_build",
            f"full build: {days} days' partitions as one run",
            _median_of(full, "process_wall"),
            "s",
            floor=base["full_floor"],
            limit=FULL_BUILD,
        ),
        Row(
            "remerge",
            f"{window_days}-day re-merge, one run",
            _median_of(remerge, "process_wall"),
            "s",
            floor=base["floor"],
            limit=REMERGE,
        ),
        Row(
            "remerge_sql",
            f"{window_days}-day re-merge, fct_orders + revenue_daily SQL",
            remerge_sql,
            "s",
            floor=base["floor"],
        ),
        Row(
            "remerge_sql_vs_floor",
            "  that SQL / floor",
            remerge_sql / base["floor"],
            "x",
            limit=REMERGE_SQL_VS_FLOOR,
        ),
        Row(
            "daily",
            "one partition (yesterday), one run",
            _median_of(daily, "process_wall"),
            "s",
            limit=DAILY,
        ),
        Row(
            "daily_fixed",
            "  its fixed cost (everything but dbt's nodes)",
            _median_of(daily, "fixed_cost"),
            "s",
            limit=FIXED_COST,
        ),
        Row(
            "daily_dbt",
            "  dbt's own work (run_results elapsed)",
            _median_of(daily, "dbt_elapsed"),
            "s",
        ),
        Row(
            "lateness",
            f"{window_days}-day lateness reports, their own run (not blocking)",
            _median_of(base["lateness"], "process_wall"),
            "s",
        ),
        Row(
            "history",
            f"{window_days}-day order history, its own run (not blocking)",
            _median_of(base["history"], "process_wall"),
            "s",
        ),
        Row(
            "full_refresh_sql",
            f"full refresh SQL, fct_orders + revenue_daily ({days} d)",
            base["full_refresh_sql"],
            "s",
        ),
        Row(
            "detect_tick",
            f"late-data detection per tick ({days} d)",
            base["detect_tick"],
            "s",
            limit=DETECT_TICK,
        ),
    ]
    if history in at:
        long = at[history]
        long_full = _median_of(long["full_build"], "process_wall")
        rows += [
            Row(
                "full_build_long",
                f"full build: {history} days' partitions as one run",
                long_full,
                "s",
                floor=long["full_floor"],
            ),
            Row(
                "full_build_long_vs_floor",
                "  / its floor",
                long_full / long["full_floor"],
                "x",
                limit=FULL_BUILD_LONG_VS_FLOOR,
            ),
        ]
        for key, label in (("daily", "one partition"), ("remerge", f"{window_days}-day re-merge")):
            wall = _median_of(long[key], "process_wall")
            rows += [
                Row(
                    f"{key}_long",
                    f"{label}, one run ({history} d history)",
                    wall,
                    "s",
                    floor=long["floor"] if key == "remerge" else None,
                ),
                Row(
                    f"{key}_long_ratio",
                    f"  {history} d / {days} d",
                    wall / _median_of(base[key], "process_wall"),
                    "x",
                    limit=LONG_VS_BASE,
                ),
            ]
        rows.append(
            Row(
                "remerge_sql_vs_floor_long",
                f"{window_days}-day re-merge SQL / floor ({history} d)",
                _median_of(long["remerge"], "merge_sql") / long["floor"],
                "x",
                limit=REMERGE_SQL_VS_FLOOR,
            )
        )
    heaviest = max(bench.peak_rss, key=bench.peak_rss.get)
    rows.append(
        Row(
            "peak_rss",
            f"peak RSS, any run's or step's process tree ({heaviest.rstrip('0123456789-')})",
            bench.peak_rss[heaviest] / GB,
            "GB",
            limit=PEAK_RSS,
        )
    )
    return rows


def _measure_ingestion(bench: Bench, root: Path) -> dict[str, Any]:
    """Every generated landing file loaded by one `ingest_orders_job` run, on a fresh
    platform of its own (the files hard-linked: the loader only reads them).

    Its dbt target directory is its own and parsed beforehand, as a deployment's is: dbt
    discards a partial-parse file written for another warehouse path (profile), and the
    bench's runs would re-parse the project after this one, or this one from scratch."""
    own = root / "ingestion"
    shutil.copytree(bench.root / "landing", own / "landing", copy_function=os.link)
    env = {**bench.env, **platform_env(own), "DBT_TARGET_PATH": str(own / "dbt_target")}
    prepare_dagster_home(own / "dagster_home", env)
    subprocess.run(
        [dbt_executable(), "parse", "--quiet"],
        cwd=settings.DBT_PROJECT_DIR,
        env=env,
        check=True,
    )
    measured = bench.run("ingestion", "ingest_orders_job", env=env)
    with connect_warehouse(own / "warehouse.duckdb", read_only=True) as conn:
        (events,) = conn.execute("select count(*) from orders_landing").fetchone()
    files = len(list((own / "landing").glob(LANDING_FILE_GLOB)))
    floor = bench.step(
        "ingestion-floor",
        "floor_ingest",
        warehouse=str(own / "floor.duckdb"),
        landing=str(own / "landing"),
    )
    # its Dagster home stays with the bench's (its run is reported); the data goes
    (own / "warehouse.duckdb").unlink()
    shutil.rmtree(own / "landing")
    return measured | {
        "events": events,
        "files": files,
        "floor_rate": floor["loaded"] / floor["seconds"],
    }


def _breakdown_columns(ingest: dict, base: dict, window_days: int) -> list[BreakdownColumn]:
    return [
        BreakdownColumn("one partition", base["daily"]),
        BreakdownColumn(f"{window_days}-day re-merge", base["remerge"]),
        BreakdownColumn("full build", base["full_build"]),
        BreakdownColumn("ingestion", [ingest]),
    ]


def main() -> int:
    options = _options()
    shape = TrafficShape.from_options(options)
    out_dir = settings.resolve_path(options.dir)
    root = out_dir / "run"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    bench = Bench(root=root, repeats=options.repeats)
    bench.env = {
        **os.environ,
        **platform_env(root),
        # dbt's artifacts and partial-parse state of this benchmark, apart from the project's
        "DBT_TARGET_PATH": str(root / "dbt_target"),
    }
    # the instance as `make dev` sets it up: the project's dagster.yaml, the writer pool
    prepare_dagster_home(root / "dagster_home", bench.env)
    load_start = machine()["load_average"]
    command = "python -m benchmarks " + shlex.join(sys.argv[1:])
    print(f"machine: {machine()}")
    bare = bare_costs(bench.env, options.repeats)

    end_date = datetime.now(UTC).date() - timedelta(days=1)
    built = bench.build(
        end_date=end_date, days=options.days, events_per_day=options.events_per_day, shape=shape
    )
    generated = built.generated
    print(
        f"generated {generated.lines:,} lines in {len(generated.files)} files for "
        f"{options.days} days in {built.generate_seconds:.0f} s"
    )
    ingest = _measure_ingestion(bench, root)
    print(f"ingested {ingest['events']:,} events in {ingest['process_wall']:.1f} s")
    end = end_date.isoformat()
    window_days = min(14, options.days)
    window = ((end_date - timedelta(days=window_days - 1)).isoformat(), end)
    full = ((end_date - timedelta(days=options.days - 1)).isoformat(), end)

    at = {
        options.days: _measure_history(bench, f"{options.days}d", end, window, full, reports=True)
    }
    at[options.days]["full_build"] = [built.full_build]
    print(f"measured at {options.days} days of history")
    failure = None
    if options.history_days > options.days:
        try:
            extended = bench.step(
                "extend", "extend", generated_days=options.days, history_days=options.history_days
            )
            print(
                f"history extended to {options.history_days} days "
                f"({extended['events']:,} events) in {extended['seconds']:.0f} s"
            )
            # the longer history is for how the blocking runs scale; the reports are not
            long_full = (extended["first_day"], end)
            at[options.history_days] = _measure_history(
                bench, f"{options.history_days}d", end, window, long_full, full_build=True
            )
        except SystemExit as error:  # report what was measured, then fail
            failure = f"{options.history_days}-day measurements failed: {error}"
            print(failure)

    rows = _rows(options.days, options.history_days, window_days, ingest, at, bench)
    columns = _breakdown_columns(ingest, at[options.days], window_days)
    context = {
        "command": command,
        "machine": machine(),
        "load_start": load_start,
        "repeats": options.repeats,
        "data": (
            f"{options.days} days generated, {generated.lines:,} lines in "
            f"{len(generated.files)} hourly files ({generated.lines / options.days:,.0f}/day, "
            f"{ingest['events']:,} valid events; {shape.describe()}); "
            + (
                f"history extended to {options.history_days} days by SQL copies of the "
                "generated days at the same daily volume"
                if options.history_days > options.days
                else "no extended history"
            )
        ),
        "note": "Other processes share this machine: see the load average."
        + (f" {failure}" if failure else ""),
        "bare_process": bare,
        "peak_rss_bytes": bench.peak_rss,
    }
    breakdown_text = render_breakdown(columns, bare)
    write(out_dir, rows, context, bench.samples, extra_markdown=breakdown_text)
    print(render_text(rows))
    print()
    print(breakdown_text)
    print(f"written: {out_dir / 'results.md'}, {out_dir / 'results.json'}")
    if not options.keep:
        shutil.rmtree(root)
    return 1 if failure else 0


if __name__ == "__main__":
    raise SystemExit(main())
