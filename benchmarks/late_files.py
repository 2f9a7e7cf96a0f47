"""Late files for the heal-latency benchmark: refunds of orders on old days.

A refund is the simplest late event whose effect is known in advance: each refunded order
leaves its day's net revenue, so a healed day must end exactly its refunds lower. The lines
are the generator's own (`orders_platform.synthetic.traffic.event_line`), and the file is
dropped the way producers must (`write_complete_file`: `*.tmp`, then renamed).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb

from orders_platform.resources.landing import write_complete_file
from orders_platform.synthetic.traffic import event_line

REFUNDS_PER_DAY = 3

# Orders that still count in their day's net revenue, oldest ids first: the ones to refund.
_REFUNDABLE = """
select order_id, customer_id, amount, order_placed_at, latest_event_time
from fct_orders
where order_date = ? and status not in ('cancelled', 'refunded')
order by order_id
limit ?
"""
_NET_REVENUE = "select order_date, net_revenue from revenue_daily where order_date in ({days})"


@dataclass(frozen=True)
class LateFile:
    """A landing file of refunds, and what it must do to the days it touches."""

    name: str
    lines: list[str]
    refunded: dict[date, Decimal]  # day -> amount its net revenue must lose
    revenue_before: dict[date, Decimal]

    @property
    def days(self) -> list[date]:
        return sorted(self.refunded)

    def expected_revenue(self) -> dict[date, Decimal]:
        return {day: self.revenue_before[day] - self.refunded[day] for day in self.days}

    def drop(self, landing: Path) -> float:
        """Drop the file, complete, into `landing`; return when it appeared (epoch seconds)."""
        write_complete_file(landing / self.name, self.lines)
        return time.time()


def net_revenue(conn: duckdb.DuckDBPyConnection, days: list[date]) -> dict[date, Decimal]:
    """`revenue_daily.net_revenue` of `days` (a day without a row is missing)."""
    placeholders = ", ".join("?" for _ in days)
    return dict(conn.execute(_NET_REVENUE.format(days=placeholders), days).fetchall())


def refund_file(conn: duckdb.DuckDBPyConnection, name: str, days: list[date]) -> LateFile:
    """Refund `REFUNDS_PER_DAY` orders of each of `days`, an hour after their latest event."""
    lines: list[str] = []
    refunded: dict[date, Decimal] = {}
    for day in days:
        orders = conn.execute(_REFUNDABLE, [day, REFUNDS_PER_DAY]).fetchall()
        if len(orders) < REFUNDS_PER_DAY:
            raise ValueError(f"{day} has fewer than {REFUNDS_PER_DAY} orders to refund")
        for order_id, customer_id, amount, placed_at, latest in orders:
            order = {
                "order_id": order_id,
                "customer_id": customer_id,
                "amount": float(amount),
                "placed_at": placed_at.replace(tzinfo=UTC),
            }
            at = latest.replace(tzinfo=UTC) + timedelta(hours=1)
            lines.append(event_line(f"refund-{name}-{order_id}", order, "refunded", at))
        refunded[day] = sum((amount for _, _, amount, _, _ in orders), Decimal(0))
    return LateFile(
        name=f"{name}-{datetime.now(UTC):%Y%m%dT%H%M%S}.jsonl",
        lines=lines,
        refunded=refunded,
        revenue_before=net_revenue(conn, days),
    )
