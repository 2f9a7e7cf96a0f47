"""The floor: the tightest hand-written DuckDB SQL for a window re-merge, and for ingestion.

It does the same work as one dbt build of `fct_orders` then `revenue_daily` for a window,
with the same result (tested against the models in orders_platform_tests/test_bench.py):
find the orders touched by the window (a snapshot placed in it, or currently dated in it),
pick each one's latest snapshot from all of its snapshots, replace those orders, and
recompute the days they now have, the days they left and the window's days. No portability
macros, no dbt materialization steps, one transaction: what no framework can beat.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import duckdb

from orders_platform.ingestion.contract import STATUSES

_STATEMENTS = (
    """
    create or replace temp table _floor_orders as
    with touched as (
        select order_id from orders_landing
        where order_placed_at >= $start_at and order_placed_at < $end_at
        union
        select order_id from fct_orders
        where order_date >= $start and order_date < $end
    ),
    latest as (
        select
            order_id,
            arg_max(
                row(customer_id, status, amount, order_placed_at, event_id, event_time,
                    event_ingested_at, load_id),
                row(event_time, event_id)
            ) as s,
            count(*) as snapshot_count
        from orders_landing
        where order_id in (select order_id from touched) and not coalesce(is_retry, false)
        group by order_id
    )
    select
        latest.order_id,
        s[1] as customer_id,
        s[2] as status,
        s[3] as amount,
        s[4] as order_placed_at,
        cast(s[4] as date) as order_date,
        s[5] as latest_event_id,
        s[6] as latest_event_time,
        s[7] as latest_event_ingested_at,
        s[8] as latest_load_id,
        latest.snapshot_count,
        case
            when merged.order_date <> cast(s[4] as date) then merged.order_date
            else merged.previous_order_date
        end as previous_order_date,
        merged.order_date as merged_order_date,
        $merged_at as merged_at
    from latest
    left join fct_orders as merged on latest.order_id = merged.order_id
    """,
    "delete from fct_orders where order_id in (select order_id from _floor_orders)",
    "insert into fct_orders by name select * exclude (merged_order_date) from _floor_orders",
    """
    create or replace temp table _floor_days as
    select order_date from _floor_orders
    union
    select merged_order_date from _floor_orders where merged_order_date is not null
    union
    select unnest(range($start, $end, interval 1 day))::date
    """,
    "delete from revenue_daily where order_date in (select order_date from _floor_days)",
    """
    insert into revenue_daily by name
    select
        d.order_date,
        count(f.order_id)::bigint as orders,
        coalesce(sum(f.amount) filter (where f.status not in ('cancelled', 'refunded')), 0)
            ::decimal(18, 2) as net_revenue,
        count(f.order_id) filter (where f.status = 'cancelled')::bigint as cancelled_orders,
        coalesce(sum(f.amount) filter (where f.status = 'refunded'), 0)::decimal(18, 2)
            as refunded_amount,
        $merged_at as merged_at
    from _floor_days as d
    left join fct_orders as f on f.order_date = d.order_date
    group by d.order_date
    """,
)


def floor_remerge(conn: duckdb.DuckDBPyConnection, start: date, end: date) -> None:
    """Re-merge the orders of [start, end) into fct_orders and revenue_daily, atomically."""
    params = {
        "start": start,
        "end": end,
        "start_at": datetime(start.year, start.month, start.day),
        "end_at": datetime(end.year, end.month, end.day),
        "merged_at": datetime.now(UTC).replace(tzinfo=None),
    }
    conn.execute("begin transaction")
    try:
        for statement in _STATEMENTS:
            names = set(re.findall(r"\$(\w+)", statement))
            conn.execute(statement, {name: params[name] for name in names})
        conn.execute("commit")
    except Exception:
        conn.execute("rollback")
        raise
    finally:
        conn.execute("drop table if exists _floor_orders")
        conn.execute("drop table if exists _floor_days")


# Ingestion written by hand: every line of the files read as text, the contract's fields
# typed (an amount as a JSON number or a numeric string), each line either loaded (retries,
# an event id seen before in file order, flagged) or quarantined with the first reason that
# applies; the same outcome the loader gives the bench's traffic, without its migrations,
# ledger, history folder, per-day versions or general-JSON edge cases.
_INGEST = """
create or replace table floor_landing as
with lines as (
    select
        filename as source_file,
        row_number() over (partition by filename) as source_line_number,
        line as raw_line
    from read_csv(
        $files, columns = {'line': 'varchar'}, delim = '\x01', quote = '', escape = '',
        header = false, filename = true, auto_detect = false
    )
),
fields as (
    select
        *,
        try(json(raw_line)) as doc,
        doc ->> 'event_id' as event_id,
        doc ->> 'order_id' as order_id,
        doc ->> 'customer_id' as customer_id,
        doc ->> 'status' as status,
        try_cast(doc ->> 'amount' as decimal(18, 2)) as amount,
        try_cast(doc ->> 'order_placed_at' as timestamptz) as placed,
        try_cast(doc ->> 'event_time' as timestamptz) as happened,
        regexp_full_match(doc ->> 'event_time', $offset_pattern) as has_offset
    from lines
)
select
    *,
    case
        when doc is null then 'malformed_json'
        when event_id is null or order_id is null or customer_id is null then 'missing_id'
        when status not in $statuses then 'unknown_status'
        when amount is null then 'invalid_amount'
        when amount < 0 then 'negative_amount'
        when placed is null or happened is null or not has_offset then 'invalid_timestamp'
        when happened < placed then 'event_time_before_order_placed'
    end as reason,
    reason is null and row_number() over (
        partition by event_id, reason is null order by source_file, source_line_number
    ) > 1 as is_retry
from fields
"""


def floor_ingest(conn: duckdb.DuckDBPyConnection, files: list[str]) -> tuple[int, int]:
    """Load `files` into `floor_landing` the tight way; (lines loaded, lines quarantined)."""
    conn.execute(
        _INGEST,
        {
            "files": files,
            "offset_pattern": r".*(Z|[+-]\d\d:?\d\d)",
            "statuses": list(STATUSES),
        },
    )
    return conn.execute(
        "select count(*) filter (reason is null), count(*) filter (reason is not null)"
        " from floor_landing"
    ).fetchone()
