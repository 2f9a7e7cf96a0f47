"""Reconcile the marts, day by day and to the cent, against the landing table.

The source side is recomputed here on purpose without the dbt models or the retry flag
(`max_by` over every landed row, retries included), so a bug in the models cannot hide
in the numbers it is checked against.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal

import duckdb
import pandas as pd

_RECONCILE = """
with latest as (
    select
        order_id,
        max_by(status, (event_time, event_id)) as status,
        max_by(amount, (event_time, event_id)) as amount,
        cast(max_by(order_placed_at, (event_time, event_id)) as date) as order_date
    from orders_landing
    group by order_id
),
source as (
    select
        order_date,
        count(*) as orders,
        sum(amount) filter (where status not in ('cancelled', 'refunded')) as net_revenue
    from latest
    group by order_date
),
fct as (
    select
        order_date,
        count(*) as orders,
        sum(amount) filter (where status not in ('cancelled', 'refunded')) as net_revenue
    from fct_orders
    group by order_date
),
days as (
    select order_date from source
    union select order_date from fct
    union select order_date from revenue_daily
)
select
    days.order_date,
    coalesce(source.orders, 0),
    coalesce(source.net_revenue, 0),
    coalesce(fct.orders, 0),
    coalesce(fct.net_revenue, 0),
    coalesce(revenue.orders, 0),
    coalesce(revenue.net_revenue, 0)
from days
left join source using (order_date)
left join fct using (order_date)
left join revenue_daily as revenue using (order_date)
where days.order_date >= coalesce($first_day, days.order_date)
  and days.order_date <= coalesce($last_day, days.order_date)
order by days.order_date
"""


@dataclass(frozen=True)
class DayReconciliation:
    order_date: date
    source_orders: int
    source_net_revenue: Decimal
    fct_orders: int
    fct_net_revenue: Decimal
    revenue_orders: int
    revenue_net_revenue: Decimal

    @property
    def matches(self) -> bool:
        return (
            self.source_orders == self.fct_orders == self.revenue_orders
            and self.source_net_revenue == self.fct_net_revenue == self.revenue_net_revenue
        )


# DayReconciliation's fields in the report's order (counts, then amounts) and their headers
_REPORT_COLUMNS = {
    "order_date": "order_date",
    "source_orders": "source",
    "fct_orders": "fct",
    "revenue_orders": "revenue",
    "source_net_revenue": "source_net",
    "fct_net_revenue": "fct_net",
    "revenue_net_revenue": "revenue_net",
}


def reconcile_days(
    conn: duckdb.DuckDBPyConnection, first_day: date | None = None, last_day: date | None = None
) -> list[DayReconciliation]:
    """One row per order date in [first_day, last_day] (all days when None)."""
    rows = conn.execute(_RECONCILE, {"first_day": first_day, "last_day": last_day}).fetchall()
    return [DayReconciliation(*row) for row in rows]


def render_table(days: list[DayReconciliation]) -> str:
    """A fixed-width table for terminals and logs, one row per day, amounts to the cent.

    The frame keeps the values as they are (`dtype=object`): the amounts stay `Decimal`, so
    they print as stored instead of as floats.
    """
    if not days:
        return "no days to reconcile"
    frame = pd.DataFrame(
        [asdict(day) for day in days], columns=list(_REPORT_COLUMNS), dtype=object
    ).rename(columns=_REPORT_COLUMNS)
    frame["status"] = ["ok" if day.matches else "MISMATCH" for day in days]
    return frame.to_string(index=False)
