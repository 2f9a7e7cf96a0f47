"""After a re-merge: tell #data-platform which historical days' totals it revised, and which
orders did it ("3 orders refunded, 1 order moved to 2026-03-06").

The notice goes out from the order-history run that follows a re-merge: that run links each
new revision of its days to the orders behind it (`revenue_daily_revision_orders`), and a
revision is linked exactly once, so it is announced exactly once. The history's dbt asset
receives this as its `RevisionNotifier` resource
(`orders_platform.resources.revision_notifier`), bound by the code location, so the arrow
runs from here down to the resource's type and never from transform up to notify.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import duckdb
from dagster import AssetExecutionContext, AssetKey, AssetObservation, MetadataValue

from orders_platform.metadata import records_table
from orders_platform.notify.webhook import WebhookResource
from orders_platform.resources.revision_notifier import RevisionNotifier

LINKS_TABLE = "revenue_daily_revision_orders"
# Marks the line of a day that was final by the finality policy when late data revised it.
FINAL_DAY_MARK = "[FINAL DAY REVISED]"

# The revisions a run linked to their orders, with their totals.
_LINKED_BY_RUN = """
with linked as (
    select distinct revision_key from revenue_daily_revision_orders where linked_by_run = ?
)

select
    revisions.revision_key,
    revisions.order_date,
    revisions.previous_orders,
    revisions.orders,
    revisions.orders_delta,
    revisions.previous_net_revenue,
    revisions.net_revenue,
    revisions.net_revenue_delta,
    revisions.arrival_load_ids,
    revisions.revised_by_run,
    coalesce(revisions.revised_final_day, false) as revised_final_day
from revenue_daily_revisions as revisions
inner join linked on revisions.revision_key = linked.revision_key
order by revisions.order_date, revisions.revised_at
"""

# The orders behind each of those revisions, counted by what happened to them.
_CHANGES_BY_RUN = """
select revision_key, change, previous_order_date, version_order_date, count(*) as orders
from revenue_daily_revision_orders
where linked_by_run = ?
group by revision_key, change, previous_order_date, version_order_date
"""

# How a change reads in the notice, by `change` of revenue_daily_revision_orders.
_CHANGE_WORDS = {
    "added": "added",
    "cancelled": "cancelled",
    "refunded": "refunded",
    "reinstated": "reinstated",
    "amount_changed": "with a changed amount",
}


def _records(cursor: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def order_changes(changes: list[dict[str, Any]]) -> str:
    """What the orders behind one revision did, most frequent first:
    '3 orders refunded, 1 order moved to 2026-03-06'."""
    parts = []
    for change in sorted(changes, key=lambda c: (-c["orders"], c["change"])):
        count, kind = change["orders"], change["change"]
        noun = "order" if count == 1 else "orders"
        if kind == "moved_out":
            parts.append(f"{count} {noun} moved to {change['version_order_date']}")
        elif kind == "moved_in":
            parts.append(f"{count} {noun} moved from {change['previous_order_date']}")
        elif kind == "unexplained":
            parts.append("no order version explains it (imported history)")
        else:
            parts.append(f"{count} {noun} {_CHANGE_WORDS[kind]}")
    return ", ".join(parts)


def revisions_linked_by_run(conn: duckdb.DuckDBPyConnection, run_id: str) -> list[dict[str, Any]]:
    """The revisions run `run_id` linked to their orders, each with its `order_changes`."""
    exists = conn.execute(
        "select count(*) from information_schema.tables where table_name = ?", [LINKS_TABLE]
    ).fetchone()[0]
    if not exists:
        return []
    revisions = _records(conn.execute(_LINKED_BY_RUN, [run_id]))
    changes: dict[str, list[dict[str, Any]]] = {}
    for change in _records(conn.execute(_CHANGES_BY_RUN, [run_id])):
        changes.setdefault(change["revision_key"], []).append(change)
    for revision in revisions:
        revision["order_changes"] = order_changes(changes.get(revision["revision_key"], []))
    return revisions


def _signed(value: Decimal | int) -> str:
    return f"+{value}" if value > 0 else str(value)


def revision_message(revisions: list[dict[str, Any]]) -> str:
    """One message summarizing every revised day, its deltas and the orders behind them.

    A revision of a day finance was told is final (`revised_final_day`) is announced first
    and marked on its line: it breaks a promise, so it must not read like routine late data.
    """
    total = sum((r["net_revenue_delta"] for r in revisions), Decimal("0"))
    finals = [r for r in revisions if r.get("revised_final_day")]
    runs = ", ".join(sorted({r["revised_by_run"] for r in revisions}))
    lines = []
    if finals:
        days = ", ".join(str(r["order_date"]) for r in finals)
        lines.append(
            f":rotating_light: *FINAL revenue revised* for {len(finals)} day(s) finance "
            f"treats as final: {days}. Figures reported from them have changed; "
            "the lookback may be too short (see order_lookback_recommendation)."
        )
    lines.append(
        f"Late order data revised historical revenue for {len(revisions)} day(s) "
        f"(net {_signed(total)}), re-merge run {runs}:"
    )
    lines += [
        f"• {r['order_date']}: net revenue {r['previous_net_revenue']} → {r['net_revenue']} "
        f"({_signed(r['net_revenue_delta'])}), orders {r['previous_orders']} → {r['orders']}"
        + (f"; {r['order_changes']}" if r.get("order_changes") else "")
        + (f" {FINAL_DAY_MARK}" if r.get("revised_final_day") else "")
        for r in revisions
    ]
    lines.append(
        "Which orders: revenue_daily_revision_orders. As of any time: revenue_daily_history, "
        "order_history, finance_revenue_daily."
    )
    return "\n".join(lines)


class WebhookRevisionNotifier(RevisionNotifier):
    """Posts the revision notice to a Slack-compatible incoming webhook."""

    webhook: WebhookResource

    def notify(
        self, context: AssetExecutionContext, conn: duckdb.DuckDBPyConnection
    ) -> Iterator[AssetObservation]:
        """Post one message if this run linked revisions of historical totals to their
        orders; record the outcome on the link table's asset."""
        revisions = revisions_linked_by_run(conn, context.run.run_id)
        if not revisions:
            return
        delivery = self.webhook.post(revision_message(revisions))
        log = context.log.info if delivery.delivered else context.log.warning
        log(f"revision notification {delivery.detail}")
        yield AssetObservation(
            asset_key=AssetKey(LINKS_TABLE),
            metadata={
                "revised_days": len(revisions),
                "revised_final_days": sum(bool(r["revised_final_day"]) for r in revisions),
                "notification": delivery.detail,
                "revisions": records_table(
                    [{k: v for k, v in r.items() if k != "revision_key"} for r in revisions],
                    limit=20,
                ),
                "net_revenue_delta": MetadataValue.float(
                    float(sum(r["net_revenue_delta"] for r in revisions))
                ),
            },
        )
