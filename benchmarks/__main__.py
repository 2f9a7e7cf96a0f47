"""`make bench` / `python -m benchmarks`: measure the platform at real volume.

Options come from flags or the environment (flags win): BENCH_DAYS (30),
BENCH_EVENTS_PER_DAY (650000), BENCH_HISTORY_DAYS (180), BENCH_REPEATS (3), BENCH_DIR
(data/bench). Everything happens on a fresh DuckDB file and Dagster home under BENCH_DIR,
deleted at the end (results.md and results.json stay) unless --keep is given.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.child import Bench
from benchmarks.dagster_dev import platform_env
from benchmarks.report import Row, machine, med, render_text, write
from orders_platform import settings

GB = 1024**3


def _options() -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=int(env("BENCH_DAYS", 30)))
    parser.add_argument(
        "--events-per-day", type=int, default=int(env("BENCH_EVENTS_PER_DAY", 650_000))
    )
    parser.add_argument(
        "--history-days",
        type=int,
        default=int(env("BENCH_HISTORY_DAYS", 180)),
        help="the longer history the daily run is compared at (0: skip)",
    )
    parser.add_argument("--repeats", type=int, default=int(env("BENCH_REPEATS", 3)))
    parser.add_argument("--dir", type=Path, default=Path(env("BENCH_DIR", "data/bench")))
    parser.add_argument("--keep", action="store_true", help="keep the warehouse and logs")
    return parser.parse_args()


def _measure_history(
    bench: Bench, tag: str, end: str, window: tuple[str, str], *, reports: bool = True
) -> dict:
    """Daily run, window re-merge, its floor, a full refresh and detection, at one history;
    with `reports`, also the runs automation starts after a re-merge (lateness, history)."""
    r = bench.repeats

    def runs(name: str, job: str, first: str, last: str) -> list[dict]:
        """`repeats` runs of `job` over the partitions `first`..`last`."""
        return [
            bench.step(f"{tag}-{name}-{i}", "dagster_run", job=job, first=first, last=last)
            for i in range(r)
        ]

    daily = runs("daily", "orders_daily_job", end, end)
    remerge = runs("remerge", "orders_daily_job", *window)
    # what automation runs after each re-merge, off its blocking path
    after = {
        name: med([d["run_wall"] for d in runs(name, job, *window)])
        for name, job in (("lateness", "orders_lateness_job"), ("history", "orders_history_job"))
        if reports
    }
    copy = bench.copy_warehouse("floor.duckdb")
    floor = bench.step(
        f"{tag}-floor", "floor", copy=str(copy), first=window[0], last=window[1], repeats=r
    )
    copy.unlink()
    copy = bench.copy_warehouse("full-refresh.duckdb")
    full = [bench.step(f"{tag}-full-refresh-{i}", "full_refresh", copy=str(copy)) for i in range(r)]
    copy.unlink()
    detect = bench.step(f"{tag}-detect", "detect", ticks=r + 1, late_day=window[0])
    return {
        "daily_wall": med([d["run_wall"] for d in daily]),
        "daily_dbt": med([d["dbt_elapsed"] for d in daily]),
        "daily_dbt_process": med([d["dbt_process"] for d in daily]),
        "daily_process": med([d["process_wall"] for d in daily]),
        "remerge_wall": med([d["run_wall"] for d in remerge]),
        "remerge_sql": med([d["merge_sql"] for d in remerge]),
        **{f"{name}_wall": wall for name, wall in after.items()},
        "floor": med(floor["seconds"]),
        "full_sql": med([f["merge_sql"] for f in full]),
        # the first tick has no cursor (a fresh sensor); later ticks are the steady state
        "detect_tick": med(
            [o + e for o, e in zip(detect["observe"][1:], detect["evaluate"][1:], strict=True)]
        ),
        "detect_first_tick": detect["observe"][0] + detect["evaluate"][0],
    }


def _rows(
    days: int,
    history: int,
    window_days: int,
    ingest: dict,
    full_build: dict,
    at: dict[int, dict],
    bench: Bench,
) -> list[Row]:
    base = at[days]
    rows = [
        Row(
            "ingest_rate",
            "ingestion",
            ingest["loaded"] / sum(ingest["seconds"]),
            "events/s",
            ">= 500,000",
            ingest["loaded"] / sum(ingest["seconds"]) >= 500_000,
        ),
        Row(
            "full_build_wall",
            f"full build, all {days} days' partitions as one run, end to end",
            full_build["run_wall"],
            "s",
            "<= 35 s",
            full_build["run_wall"] <= 35,
        ),
        Row(
            "daily_wall",
            f"daily partition run, end to end ({days} d history)",
            base["daily_wall"],
            "s",
            "<= 15 s",
            base["daily_wall"] <= 15,
        ),
        Row("daily_dbt", "  of which dbt's own work (run_results elapsed)", base["daily_dbt"], "s"),
        Row(
            "daily_overhead",
            "  of which orchestration + dbt start-up",
            base["daily_wall"] - base["daily_dbt"],
            "s",
        ),
        Row("daily_process", "  same run, fresh process incl. imports", base["daily_process"], "s"),
        Row(
            "remerge_wall",
            f"{window_days}-day re-merge, one run, end to end",
            base["remerge_wall"],
            "s",
            "<= 20 s",
            base["remerge_wall"] <= 20,
        ),
        Row(
            "remerge_sql",
            f"{window_days}-day re-merge, its SQL (fct_orders + revenue_daily)",
            base["remerge_sql"],
            "s",
        ),
        Row("floor", f"{window_days}-day re-merge, hand-written DuckDB floor", base["floor"], "s"),
        Row(
            "lateness_wall",
            f"{window_days}-day lateness reports, their own run after it (not blocking)",
            base["lateness_wall"],
            "s",
        ),
        Row(
            "history_wall",
            f"{window_days}-day order history, its own run after it (not blocking)",
            base["history_wall"],
            "s",
        ),
        Row(
            "sql_vs_floor",
            "our SQL / floor",
            base["remerge_sql"] / base["floor"],
            "x",
            "<= 1.5",
            base["remerge_sql"] / base["floor"] <= 1.5,
        ),
        Row("full_sql", f"full refresh SQL ({days} d)", base["full_sql"], "s"),
        Row(
            "full_vs_remerge",
            f"full refresh / {window_days}-day re-merge SQL ({days} d)",
            base["full_sql"] / base["remerge_sql"],
            "x",
        ),
        Row(
            "detect_tick",
            f"late-data detection per tick ({days} d)",
            base["detect_tick"],
            "s",
            "<= 1 s",
            base["detect_tick"] <= 1,
        ),
        Row(
            "detect_first_tick",
            f"  first tick, no sensor cursor ({days} d)",
            base["detect_first_tick"],
            "s",
        ),
    ]
    if history in at:
        long = at[history]
        daily_ratio = long["daily_wall"] / base["daily_wall"]
        full_ratio = long["full_sql"] / long["remerge_sql"]
        rows += [
            Row(
                "daily_wall_long",
                f"daily partition run, end to end ({history} d history)",
                long["daily_wall"],
                "s",
                "<= 15 s",
                long["daily_wall"] <= 15,
            ),
            Row(
                "daily_dbt_long", f"  of which dbt's own work ({history} d)", long["daily_dbt"], "s"
            ),
            Row(
                "daily_ratio",
                f"daily run {history} d / {days} d (end to end)",
                daily_ratio,
                "x",
                "<= 1.2",
                daily_ratio <= 1.2,
            ),
            Row(
                "daily_dbt_ratio",
                f"daily run {history} d / {days} d (dbt's own work)",
                long["daily_dbt"] / base["daily_dbt"],
                "x",
            ),
            Row(
                "remerge_wall_long",
                f"{window_days}-day re-merge end to end ({history} d)",
                long["remerge_wall"],
                "s",
                "<= 20 s",
                long["remerge_wall"] <= 20,
            ),
            Row(
                "sql_vs_floor_long",
                f"our SQL / floor ({history} d)",
                long["remerge_sql"] / long["floor"],
                "x",
                "<= 1.5",
                long["remerge_sql"] / long["floor"] <= 1.5,
            ),
            Row(
                "full_vs_remerge_long",
                f"full refresh / {window_days}-day re-merge SQL ({history} d)",
                full_ratio,
                "x",
                ">= 5",
                full_ratio >= 5,
            ),
            Row(
                "detect_tick_long",
                f"late-data detection per tick ({history} d)",
                long["detect_tick"],
                "s",
                "<= 1 s",
                long["detect_tick"] <= 1,
            ),
        ]
    heaviest = max(bench.peak_rss, key=bench.peak_rss.get)
    peak = bench.peak_rss[heaviest] / GB
    rows.append(
        Row(
            "peak_rss",
            f"peak RSS, heaviest step ({heaviest.rstrip('0123456789-')})",
            peak,
            "GB",
            "<= 4 GB",
            peak <= 4,
        )
    )
    return rows


def main() -> int:
    options = _options()
    out_dir = settings.resolve_path(options.dir)
    root = out_dir / "run"
    shutil.rmtree(root, ignore_errors=True)
    (root / "dagster_home").mkdir(parents=True)
    bench = Bench(root=root, repeats=options.repeats)
    bench.env = {
        **os.environ,
        **platform_env(root),
        # dbt's artifacts and partial-parse state of this benchmark, apart from the project's
        "DBT_TARGET_PATH": str(root / "dbt_target"),
    }
    load_start = machine()["load_average"]
    command = "python -m benchmarks " + shlex.join(sys.argv[1:])
    print(f"machine: {machine()}")

    end_date = datetime.now(UTC).date() - timedelta(days=1)
    built = bench.build(
        end_date=end_date,
        days=options.days,
        events_per_day=options.events_per_day,
    )
    generated, ingest, full_build = built.generated, built.ingest, built.full_build
    print(
        f"generated {generated.lines:,} lines for {options.days} days "
        f"in {built.generate_seconds:.0f} s"
    )
    print(f"ingested {ingest['loaded']:,} events in {sum(ingest['seconds']):.1f} s")
    end = end_date.isoformat()
    window_days = min(14, options.days)
    window = ((end_date - timedelta(days=window_days - 1)).isoformat(), end)

    at = {options.days: _measure_history(bench, f"{options.days}d", end, window)}
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
            at[options.history_days] = _measure_history(
                bench, f"{options.history_days}d", end, window, reports=False
            )
        except SystemExit as error:  # report what was measured, then fail
            failure = f"{options.history_days}-day measurements failed: {error}"
            print(failure)

    rows = _rows(options.days, options.history_days, window_days, ingest, full_build, at, bench)
    context = {
        "command": command,
        "machine": machine(),
        "load_start": load_start,
        "repeats": options.repeats,
        "data": (
            f"{options.days} days generated, {generated.lines:,} lines "
            f"({generated.lines / options.days:,.0f}/day, {ingest['loaded']:,} valid events); "
            + (
                f"history extended to {options.history_days} days by SQL copies of the "
                "generated days at the same daily volume"
                if options.history_days > options.days
                else "no extended history"
            )
        ),
        "note": "Other processes share this machine: see the load average."
        + (f" {failure}" if failure else ""),
        "at": at,
        "peak_rss_bytes": bench.peak_rss,
    }
    write(out_dir, rows, context, bench.samples)
    print(render_text(rows))
    print(f"written: {out_dir / 'results.md'}, {out_dir / 'results.json'}")
    if not options.keep:
        shutil.rmtree(root)
    return 1 if failure else 0


if __name__ == "__main__":
    raise SystemExit(main())
