"""After a re-merge: tell #data-platform which historical days' totals it revised.

The dbt asset receives this as its `RevisionNotifier` resource
(`orders_platform.resources.revision_notifier`), bound by the code location, so the arrow
runs from here down to the resource's type and never from transform up to notify.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import duckdb
from dagster import AssetExecutionContext, AssetKey, AssetObservation, MetadataValue

from orders_platform.metadata import markdown_table
from orders_platform.notify.webhook import WebhookResource
from orders_platform.resources.revision_notifier import RevisionNotifier

REVISIONS_TABLE = "revenue_daily_revisions"
# Marks the line of a day that was final by the finality policy when late data revised it.
FINAL_DAY_MARK = "[FINAL DAY REVISED]"

_REVISED_BY_RUN = """
select
    order_date,
    previous_orders,
    orders,
    orders_delta,
    previous_net_revenue,
    net_revenue,
    net_revenue_delta,
    arrival_load_ids,
    coalesce(revised_final_day, false) as revised_final_day
from revenue_daily_revisions
where revised_by_run = ? and not is_first_version
order by order_date
"""


def revisions_by_run(conn: duckdb.DuckDBPyConnection, run_id: str) -> list[dict[str, Any]]:
    exists = conn.execute(
        "select count(*) from information_schema.tables where table_name = ?", [REVISIONS_TABLE]
    ).fetchone()[0]
    if not exists:
        return []
    cursor = conn.execute(_REVISED_BY_RUN, [run_id])
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _signed(value: Decimal | int) -> str:
    return f"+{value}" if value > 0 else str(value)


def revision_message(revisions: list[dict[str, Any]], run_id: str) -> str:
    """One message summarizing every revised day and its deltas.

    A revision of a day finance was told is final (`revised_final_day`) is announced first
    and marked on its line: it breaks a promise, so it must not read like routine late data.
    """
    total = sum((r["net_revenue_delta"] for r in revisions), Decimal("0"))
    finals = [r for r in revisions if r.get("revised_final_day")]
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
        f"(net {_signed(total)}), run {run_id}:"
    )
    lines += [
        f"• {r['order_date']}: net revenue {r['previous_net_revenue']} → {r['net_revenue']} "
        f"({_signed(r['net_revenue_delta'])}), orders {r['previous_orders']} → {r['orders']}"
        + (f" {FINAL_DAY_MARK}" if r.get("revised_final_day") else "")
        for r in revisions
    ]
    lines.append("As-of history: revenue_daily_history / finance_revenue_daily.")
    return "\n".join(lines)


class WebhookRevisionNotifier(RevisionNotifier):
    """Posts the revision notice to a Slack-compatible incoming webhook."""

    webhook: WebhookResource

    def notify(
        self, context: AssetExecutionContext, conn: duckdb.DuckDBPyConnection
    ) -> Iterator[AssetObservation]:
        """Post one message if this run revised historical totals; record the outcome on the
        asset."""
        run_id = context.run.run_id
        revisions = revisions_by_run(conn, run_id)
        if not revisions:
            return
        delivery = self.webhook.post(revision_message(revisions, run_id))
        log = context.log.info if delivery.delivered else context.log.warning
        log(f"revision notification {delivery.detail}")
        yield AssetObservation(
            asset_key=AssetKey("revenue_daily"),
            metadata={
                "revised_days": len(revisions),
                "revised_final_days": sum(bool(r["revised_final_day"]) for r in revisions),
                "notification": delivery.detail,
                "revisions": markdown_table(revisions, limit=20),
                "net_revenue_delta": MetadataValue.float(
                    float(sum(r["net_revenue_delta"] for r in revisions))
                ),
            },
        )
