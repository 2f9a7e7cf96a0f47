"""Benchmark data: generated traffic as daily landing files, and cheap extra history.

Traffic comes from `orders_platform.synthetic.traffic` at the requested daily volume and is
streamed to one file per arrival day (the generator's lines are never all held in memory).
Longer history (e.g. 180 days) is then reached by copying the generated days backwards in
SQL, shifted in time with fresh ids, at the same daily volume: generating and merging 120 M
events through Python and dbt would take hours and measure nothing new.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import repeat
from pathlib import Path

import duckdb

from orders_platform.synthetic.traffic import TrafficSpec, generate

# Events one order produces on average with the generator's defaults (lifecycle of ~3.85
# snapshots, 2 % retries, 1 % re-dates, 0.2 % malformed lines); measured, see results.
EVENTS_PER_ORDER = 3.95


@dataclass(frozen=True)
class Generated:
    """What `write_arrival_files` produced."""

    files: list[Path]  # per arrival day (and generator worker), in arrival order
    lines: int
    end_date: date  # last order date
    now: datetime  # nothing arrives after this (the end of `end_date`)


def _write_chunk(outbox: Path, spec: TrafficSpec, now: datetime, chunk: int) -> int:
    """Generate `spec` into `arrivals-<arrival day>-c<chunk>.jsonl` files; return the lines."""
    handles = {}
    lines = 0
    try:
        for arrival in generate(spec, now=now):
            day = min(arrival.arrived_at, now - timedelta(microseconds=1)).date()
            handle = handles.get(day)
            if handle is None:
                path = outbox / f"arrivals-{day.isoformat()}-c{chunk:02d}.jsonl"
                handle = handles[day] = path.open("w", encoding="utf-8", buffering=1 << 20)
            handle.write(arrival.line + "\n")
            lines += 1
    finally:
        for handle in handles.values():
            handle.close()
    return lines


def write_arrival_files(
    outbox: Path,
    *,
    end_date: date,
    days: int,
    events_per_day: int,
    workers: int = 1,
    seed: int = 2187,
) -> Generated:
    """Generate `days` order dates of traffic ending on `end_date` into `outbox`.

    Each line goes to a file of the UTC day it arrives; arrival stops at the end of
    `end_date`, as if the benchmark ran at midnight. The days are split between `workers`
    processes (pure-Python generation is the slowest part of a large benchmark), each with
    its own seed, so the traffic depends on `workers` but never on timing.
    """
    outbox.mkdir(parents=True, exist_ok=True)
    now = datetime(end_date.year, end_date.month, end_date.day, tzinfo=UTC) + timedelta(days=1)
    orders_per_day = max(1, round(events_per_day / EVENTS_PER_ORDER))
    workers = max(1, min(workers, days))
    bounds = [days * k // workers for k in range(workers + 1)]
    specs = [
        TrafficSpec(
            end_date=end_date - timedelta(days=days - bounds[k + 1]),
            days=bounds[k + 1] - bounds[k],
            orders_per_day=orders_per_day,
            seed=seed + k,
        )
        for k in range(workers)
    ]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        lines = sum(pool.map(_write_chunk, repeat(outbox), specs, repeat(now), range(workers)))
    files = sorted(outbox.glob("arrivals-*.jsonl"))
    return Generated(files=files, lines=lines, end_date=end_date, now=now)


def arrival_day(path: Path) -> date:
    return date.fromisoformat(path.name.removeprefix("arrivals-")[:10])


# Copy k of the generated history, `shift` days earlier, with ids no real row has. Rows keep
# their merge audit times, so no mart sees them as new work; the shifted days are complete.
_COPY_LANDING = """
insert into orders_landing by name
select
    * replace (
        $prefix || event_id as event_id,
        $prefix || order_id as order_id,
        order_placed_at - to_days($shift) as order_placed_at,
        event_time - to_days($shift) as event_time,
        event_ingested_at - to_days($shift) as event_ingested_at,
        $prefix || source_file as source_file
    )
from orders_landing
where not starts_with(order_id, 'h')
"""

_COPY_FCT = """
insert into fct_orders by name
select
    * replace (
        $prefix || order_id as order_id,
        $prefix || latest_event_id as latest_event_id,
        order_placed_at - to_days($shift) as order_placed_at,
        order_date - $shift::integer as order_date,
        latest_event_time - to_days($shift) as latest_event_time,
        latest_event_ingested_at - to_days($shift) as latest_event_ingested_at,
        previous_order_date - $shift::integer as previous_order_date
    )
from fct_orders
where not starts_with(order_id, 'h')
"""

# revenue_daily for every day, from fct_orders, by the model's own aggregation: copies
# meet at their boundaries (orders re-dated across them), so copying rows would double days.
_REBUILD_REVENUE = """
create or replace temp table _revenue as
select
    order_date,
    count(*)::bigint as orders,
    sum(case when status not in ('cancelled', 'refunded') then amount else 0 end)::decimal(18, 2)
        as net_revenue,
    sum(case when status = 'cancelled' then 1 else 0 end)::bigint as cancelled_orders,
    sum(case when status = 'refunded' then amount else 0 end)::decimal(18, 2) as refunded_amount,
    (select max(merged_at) from revenue_daily) as merged_at
from fct_orders
group by order_date;
delete from revenue_daily;
insert into revenue_daily by name select * from _revenue;
drop table _revenue;
"""

_MARK_DAYS = """
insert or ignore into orders_landing_days
select distinct order_date, 'bench-history', now()::timestamp from fct_orders
"""


def extend_history(conn: duckdb.DuckDBPyConnection, *, generated_days: int, history_days: int):
    """Prepend shifted copies of the generated days until the warehouse holds `history_days`.

    Returns the order dates added. Copy k is shifted k * `generated_days` days back; the
    last copy is trimmed so the history is exactly `history_days` long.
    """
    (first_day,) = conn.execute("select min(order_date) from fct_orders").fetchone()
    copies = -(-history_days // generated_days) - 1
    conn.execute("begin transaction")
    for k in range(1, copies + 1):
        params = {"prefix": f"h{k}-", "shift": k * generated_days}
        conn.execute(_COPY_LANDING, params)
        conn.execute(_COPY_FCT, params)
    oldest = first_day + timedelta(days=generated_days - history_days)
    conn.execute("delete from orders_landing where cast(order_placed_at as date) < ?", [oldest])
    conn.execute("delete from fct_orders where order_date < ?", [oldest])
    conn.execute(_REBUILD_REVENUE)
    conn.execute(_MARK_DAYS)
    conn.execute("commit")
    return [oldest + timedelta(days=i) for i in range((first_day - oldest).days)]
