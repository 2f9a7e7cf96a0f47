"""`make demo`: 30 days of synthetic traffic, a late wave, a reconciliation table, and the
lookback the traffic's arrival delays call for beside what the configured windows cover.

Runs the platform the way an operator does, through the Dagster CLI against the
project's Dagster home (so every run shows up in `make dev` afterwards), on its own DuckDB
file under `data/demo/`. History is replayed hour by hour with the arrival time each batch
really had; the late wave lands now. Exits non-zero if any day does not reconcile.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from orders_platform import settings
from orders_platform.ingestion.loader import load_new_files
from orders_platform.lateness import read_recommendation
from orders_platform.partitions import REMERGE_DAYS
from orders_platform.reconciliation import reconcile_days, render_table
from orders_platform.resources.warehouse import connect_warehouse
from orders_platform.schedules.schedules import remerge_partition_range
from orders_platform.synthetic.traffic import (
    TrafficSpec,
    batch_file_name,
    generate,
    hourly_batches,
    write_batch,
)

PARTITIONED_ASSETS = (
    "fct_orders,revenue_daily,revenue_daily_revisions,revenue_daily_history,finance_revenue_daily,"
    "order_lateness_daily,order_completeness_curve,order_lookback_recommendation,"
    "order_history,revenue_daily_revision_orders"
)


def _dagster(*args: str) -> None:
    """Run a `dagster` CLI command from the repository root, failing loudly."""
    command = [str(Path(sys.executable).with_name("dagster")), *args]
    started = time.monotonic()
    completed = subprocess.run(command, cwd=settings.REPO_ROOT, capture_output=True, text=True)
    if completed.returncode != 0:
        sys.stderr.write(completed.stdout[-5000:] + completed.stderr[-5000:])
        raise SystemExit(f"failed: {' '.join(args)}")
    print(f"  dagster {' '.join(args[:2])} ... done in {time.monotonic() - started:.1f}s")


def _materialize_range(first: str, last: str) -> None:
    _dagster(
        "asset",
        "materialize",
        "-m",
        "orders_platform.definitions",
        "--select",
        PARTITIONED_ASSETS,
        "--partition-range",
        f"{first}...{last}",
    )


def _days_touched_before(load_id: str, before: date) -> list[date]:
    """Order dates older than `before` whose latest landed change came from this load."""
    with connect_warehouse(settings.warehouse_path(), read_only=True) as conn:
        rows = conn.execute(
            "select order_date from orders_landing_days where version = ? and order_date < ? "
            "order by order_date",
            [load_id, before],
        ).fetchall()
    return [day for (day,) in rows]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--orders-per-day", type=int, default=300)
    parser.add_argument("--seed", type=int, default=2187)
    options = parser.parse_args()

    root = settings.REPO_ROOT / "data" / "demo"
    shutil.rmtree(root, ignore_errors=True)
    os.environ["ORDERS_WAREHOUSE"] = str(root / "warehouse.duckdb")
    os.environ["ORDERS_LANDING_DIR"] = str(root / "landing")
    os.environ.setdefault("DAGSTER_HOME", str(settings.REPO_ROOT / ".dagster_home"))
    Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
    landing = settings.landing_dir()
    started = time.monotonic()

    now = datetime.now(UTC).replace(microsecond=0)
    today = now.date()
    spec = TrafficSpec(
        end_date=today - timedelta(days=1),
        days=options.days,
        orders_per_day=options.orders_per_day,
        seed=options.seed,
    )
    midnight = datetime(today.year, today.month, today.day, tzinfo=UTC)
    batches = hourly_batches(generate(spec, now=now))
    history = {at: lines for at, lines in batches.items() if at <= midnight}
    late_wave = [line for at, lines in batches.items() if at > midnight for line in lines]

    print(f"1. replaying {len(history)} hourly batches of history, each at its arrival time")
    with connect_warehouse(settings.warehouse_path()) as conn:
        for lands_at, lines in history.items():
            write_batch(landing, batch_file_name(lands_at), lines)
            load_new_files(
                conn, landing, ingested_at=lands_at, load_id=f"replay-{lands_at:%Y%m%dT%H}"
            )
        loaded, rejected = conn.execute(
            "select (select count(*) from orders_landing), (select count(*) from orders_rejected)"
        ).fetchone()
    print(f"   {loaded} events landed, {rejected} lines quarantined with a reason")

    first_day = spec.end_date - timedelta(days=spec.days - 1)
    # the demo's partitions are its own days: the Dagster commands below (and `make dev` with
    # the command printed at the end) list exactly these, none "missing" before them
    os.environ["ORDERS_FIRST_PARTITION_DAY"] = first_day.isoformat()
    print(f"2. staging view, then all {spec.days} partitions as one run")
    _dagster("asset", "materialize", "-m", "orders_platform.definitions", "--select", "stg_orders")
    _materialize_range(first_day.isoformat(), spec.end_date.isoformat())

    print(f"3. a late wave of {len(late_wave)} lines lands now, through the ingestion asset")
    write_batch(landing, f"late-wave-{now:%Y-%m-%dT%H%M%S}.jsonl", late_wave)
    _dagster(
        "asset", "materialize", "-m", "orders_platform.definitions", "--select", "orders_landing"
    )

    first, last = remerge_partition_range(now)
    print(f"4. the nightly {REMERGE_DAYS}-day re-merge, {first}...{last}, as one run")
    _materialize_range(first, last)

    with connect_warehouse(settings.warehouse_path(), read_only=True) as conn:
        late_load = conn.execute(
            "select load_id from orders_landing_files where source_file like 'late-wave-%'"
        ).fetchone()[0]
    older = _days_touched_before(late_load, date.fromisoformat(first))
    if older:
        with connect_warehouse(settings.warehouse_path(), read_only=True) as conn:
            days = reconcile_days(conn, first_day, spec.end_date)
        print(
            f"5. late data also touched {len(older)} day(s) older than the window "
            f"({', '.join(d.isoformat() for d in older)}); "
            f"{sum(not d.matches for d in days)} day(s) do not reconcile after the "
            f"{REMERGE_DAYS}-day re-merge alone. Re-merging {older[0]}...{older[-1]}"
        )
        _materialize_range(older[0].isoformat(), older[-1].isoformat())

    with connect_warehouse(settings.warehouse_path(), read_only=True) as conn:
        days = reconcile_days(conn, first_day, spec.end_date)
    print(
        "\nReconciliation: source (recomputed from orders_landing) vs fct_orders vs revenue_daily"
    )
    print(render_table(days))
    with connect_warehouse(settings.warehouse_path(), read_only=True) as conn:
        recommendation = read_recommendation(conn)
        changes = conn.execute(
            "select change, count(*) from revenue_daily_revision_orders group by change "
            "order by count(*) desc, change"
        ).fetchall()
    if changes:
        print("\nWhich orders revised historical days (docs/history.md)")
        print(", ".join(f"{count} {change}" for change, count in changes))
    if recommendation is not None:
        print("\nHow late is our data? (docs/lateness.md)")
        print(recommendation.summary())
    mismatches = [d for d in days if not d.matches]
    print(
        f"\n{len(days)} days, {len(mismatches)} mismatches; "
        f"demo took {time.monotonic() - started:.0f}s; warehouse: {settings.warehouse_path()}"
    )
    print(
        "To explore its runs in the UI: "
        f"ORDERS_FIRST_PARTITION_DAY={first_day} ORDERS_WAREHOUSE=data/demo/warehouse.duckdb "
        "ORDERS_LANDING_DIR=data/demo/landing make dev"
    )
    return 1 if mismatches else 0


if __name__ == "__main__":
    raise SystemExit(main())
