"""How late is our data: the lateness models read back for Dagster and the demo.

The numbers are computed in dbt (order_lateness_daily, order_completeness_curve,
order_lookback_recommendation); this module only reads them after dbt has exited, and turns
them into materialization metadata the UI can plot, the completeness curve as a table, and
the shortfall sentence the coverage check and the demo print.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb
from dagster import MetadataValue

from orders_platform.metadata import records_table

LATENESS_TABLE = "order_lateness_daily"
CURVE_TABLE = "order_completeness_curve"
RECOMMENDATION_TABLE = "order_lookback_recommendation"
# The completeness curve's points shown at most (one per distinct arrival age, in days).
_CURVE_POINTS = 100


@dataclass(frozen=True)
class Recommendation:
    """One row of order_lookback_recommendation: what the data needs vs what is configured."""

    target_share: float
    trailing_first_day: date | None
    trailing_last_day: date | None
    events_lookback_days: int
    net_revenue_lookback_days: int
    recommended_lookback_days: int
    configured_lookback_days: int
    lookback_events_share: float
    lookback_net_revenue_share: float
    remerge_window_days: int
    remerge_window_events_share: float
    remerge_window_net_revenue_share: float

    @property
    def remerge_window_covers_target(self) -> bool:
        return self.recommended_lookback_days <= self.remerge_window_days

    @property
    def lookback_covers_target(self) -> bool:
        return self.recommended_lookback_days <= self.configured_lookback_days

    def coverage_line(self, name: str, days: int, events: float, revenue: float) -> str:
        """What a configured window of `days` covers, and how far short of the target."""
        verdict = "meets" if days >= self.recommended_lookback_days else "is below"
        return (
            f"The {days}-day {name} covers {_percent(events)} of events and "
            f"{_percent(revenue)} of net revenue: {verdict} the {_percent(self.target_share)} "
            "target"
            + (
                ""
                if days >= self.recommended_lookback_days
                else f" ({self.recommended_lookback_days - days} day(s) short)"
            )
        )

    def summary(self) -> str:
        """Recommended lookback and what the configured windows cover, in plain words."""
        return "\n".join(
            [
                f"Recommended lookback: {self.recommended_lookback_days} day(s) after a day "
                f"ends covers {_percent(self.target_share)} of events "
                f"({self.events_lookback_days} d) and of net revenue "
                f"({self.net_revenue_lookback_days} d) over {self.trailing_first_day}.."
                f"{self.trailing_last_day}.",
                self.coverage_line(
                    "lookback",
                    self.configured_lookback_days,
                    self.lookback_events_share,
                    self.lookback_net_revenue_share,
                ),
                self.coverage_line(
                    "re-merge window",
                    self.remerge_window_days,
                    self.remerge_window_events_share,
                    self.remerge_window_net_revenue_share,
                ),
            ]
        )


def _percent(share: float) -> str:
    return f"{share * 100:.2f} %".replace(".00 %", " %")


def _table_exists(conn: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        conn.execute(
            "select count(*) from information_schema.tables where table_name = ?", [name]
        ).fetchone()[0]
    )


def _dicts(cursor: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def read_recommendation(conn: duckdb.DuckDBPyConnection) -> Recommendation | None:
    """The recommendation, or None before the lateness models exist or hold any day."""
    if not _table_exists(conn, RECOMMENDATION_TABLE):
        return None
    rows = _dicts(conn.execute("select * from order_lookback_recommendation"))
    if not rows or rows[0]["trailing_last_day"] is None:
        return None
    row = rows[0]
    return Recommendation(**{name: row[name] for name in Recommendation.__dataclass_fields__})


def read_curve(conn: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """The completeness curve, youngest age first ([] before it exists)."""
    if not _table_exists(conn, CURVE_TABLE):
        return []
    return _dicts(
        conn.execute(
            "select arrival_age_days, events_known_share, net_revenue_known_share "
            "from order_completeness_curve order by arrival_age_days"
        )
    )


def marked_curve(
    curve: list[dict[str, Any]], recommendation: Recommendation
) -> list[dict[str, Any]]:
    """The curve's points (shares known k days after the day; flat between the ages listed),
    each with a note marking the configured windows and the recommended lookback."""
    marks = {
        recommendation.configured_lookback_days: "configured lookback",
        recommendation.remerge_window_days: "re-merge window",
    }
    points = []
    for point in curve:
        age = point["arrival_age_days"]
        notes = [note for days, note in marks.items() if days == age]
        if age == recommendation.recommended_lookback_days:
            notes.append("recommended")
        points.append({**point, "note": ", ".join(notes)})
    return points


_TRAILING_TOTALS = """
select
    sum(events) as events,
    sum(events_after_day_end) as events_after_day_end,
    max(arrival_delay_p99_seconds) as worst_day_p99_delay_seconds,
    sum(events_outside_remerge_window) as events_outside_remerge_window,
    sum(net_revenue_outside_remerge_window) as net_revenue_outside_remerge_window
from order_lateness_daily
where order_date between ? and ?
"""


def lateness_metadata(conn: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Numeric metadata (plotted over materializations by the UI) and the curve table."""
    recommendation = read_recommendation(conn)
    if recommendation is None:
        return {}
    totals = _dicts(
        conn.execute(
            _TRAILING_TOTALS,
            [recommendation.trailing_first_day, recommendation.trailing_last_day],
        )
    )[0]
    events = int(totals["events"] or 0)
    return {
        "recommended_lookback_days": MetadataValue.int(recommendation.recommended_lookback_days),
        "events_lookback_days": MetadataValue.int(recommendation.events_lookback_days),
        "net_revenue_lookback_days": MetadataValue.int(recommendation.net_revenue_lookback_days),
        "target_share": MetadataValue.float(recommendation.target_share),
        "lookback_events_share": MetadataValue.float(recommendation.lookback_events_share),
        "lookback_net_revenue_share": MetadataValue.float(
            recommendation.lookback_net_revenue_share
        ),
        "remerge_window_events_share": MetadataValue.float(
            recommendation.remerge_window_events_share
        ),
        "remerge_window_net_revenue_share": MetadataValue.float(
            recommendation.remerge_window_net_revenue_share
        ),
        "trailing_events": MetadataValue.int(events),
        "trailing_share_after_day_end": MetadataValue.float(
            (totals["events_after_day_end"] or 0) / events if events else 0.0
        ),
        "trailing_worst_day_p99_delay_hours": MetadataValue.float(
            float(totals["worst_day_p99_delay_seconds"] or 0) / 3600
        ),
        "trailing_events_outside_remerge_window": MetadataValue.int(
            int(totals["events_outside_remerge_window"] or 0)
        ),
        "trailing_net_revenue_outside_remerge_window": MetadataValue.float(
            float(totals["net_revenue_outside_remerge_window"] or 0)
        ),
        "trailing_window": MetadataValue.text(
            f"{recommendation.trailing_first_day}..{recommendation.trailing_last_day}"
        ),
        "completeness_curve": records_table(
            marked_curve(read_curve(conn), recommendation), limit=_CURVE_POINTS
        ),
    }
