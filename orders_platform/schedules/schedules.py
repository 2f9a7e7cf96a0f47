"""Schedules. All times are UTC; partitions are UTC order dates."""

from datetime import datetime, timedelta

from dagster import (
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    build_schedule_from_partitioned_job,
    schedule,
)

from orders_platform.dagster_internals import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)
from orders_platform.jobs import ingest_orders_job, orders_daily_job, revenue_freshness_job
from orders_platform.partitions import REMERGE_DAYS

hourly_ingestion_schedule = ScheduleDefinition(
    name="hourly_ingestion_schedule",
    job=ingest_orders_job,
    cron_schedule="5 * * * *",
    execution_timezone="UTC",
)

freshness_check_schedule = ScheduleDefinition(
    name="freshness_check_schedule",
    job=revenue_freshness_job,
    cron_schedule="*/15 * * * *",
    execution_timezone="UTC",
)

# Materializes the newest complete partition (yesterday) shortly after midnight UTC.
daily_partition_schedule = build_schedule_from_partitioned_job(
    orders_daily_job, name="daily_partition_schedule", hour_of_day=0, minute_of_hour=30
)


def remerge_partition_range(now: datetime, days: int = REMERGE_DAYS) -> tuple[str, str]:
    """First and last partition key of the `days` complete UTC days before `now`."""
    last = now.date() - timedelta(days=1)
    first = last - timedelta(days=days - 1)
    return first.isoformat(), last.isoformat()


@schedule(
    name="nightly_remerge_schedule",
    job=orders_daily_job,
    cron_schedule="0 3 * * *",
    execution_timezone="UTC",
    description=f"Re-merge the last {REMERGE_DAYS} days as one run, catching late arrivals.",
)
def nightly_remerge_schedule(context: ScheduleEvaluationContext) -> RunRequest:
    first, last = remerge_partition_range(context.scheduled_execution_time)
    return RunRequest(
        run_key=f"remerge-{first}-{last}",
        tags={ASSET_PARTITION_RANGE_START_TAG: first, ASSET_PARTITION_RANGE_END_TAG: last},
    )
