"""Freshness: yesterday's revenue_daily partition must be materialized by a deadline (UTC).

Dagster's `FreshnessPolicy` judges an asset by its last materialization of any partition,
so a re-merge of older days would make a missing yesterday look fresh. This check asks the
partition question directly, reads only the Dagster instance (never the warehouse), and
takes its deadline at run time (`ORDERS_REVENUE_DEADLINE_UTC`, or the run config).
"""

from collections.abc import Set
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetKey,
    Config,
    asset_check,
)
from pydantic import Field

from orders_platform import settings

REVENUE_DAILY = AssetKey("revenue_daily")


@dataclass(frozen=True)
class Freshness:
    passed: bool
    partition: str
    due_at: datetime
    detail: str


def yesterday_freshness(now: datetime, deadline: time, materialized: Set[str]) -> Freshness:
    """Is yesterday's partition (relative to `now`, UTC) materialized, or not yet due?"""
    now = now.astimezone(UTC)
    yesterday = (now.date() - timedelta(days=1)).isoformat()
    due_at = datetime.combine(now.date(), deadline, tzinfo=UTC)
    if yesterday in materialized:
        return Freshness(True, yesterday, due_at, "materialized")
    if now < due_at:
        return Freshness(True, yesterday, due_at, "not materialized yet, not due yet")
    return Freshness(False, yesterday, due_at, f"missing, overdue by {now - due_at}")


class FreshnessConfig(Config):
    deadline_utc: str | None = Field(
        default=None,
        description="HH:MM (UTC); unset means ORDERS_REVENUE_DEADLINE_UTC, else 02:00.",
    )


@asset_check(
    asset=REVENUE_DAILY,
    name="yesterday_materialized_by_deadline",
    description="Yesterday's revenue_daily partition exists by the daily deadline (UTC).",
)
def yesterday_materialized_by_deadline(
    context: AssetCheckExecutionContext, config: FreshnessConfig
) -> AssetCheckResult:
    deadline = time.fromisoformat(config.deadline_utc or settings.revenue_deadline_utc())
    materialized = context.instance.get_materialized_partitions(REVENUE_DAILY)
    result = yesterday_freshness(datetime.now(UTC), deadline, materialized)
    return AssetCheckResult(
        passed=result.passed,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "partition": result.partition,
            "due_at": result.due_at.isoformat(),
            "status": result.detail,
        },
    )
