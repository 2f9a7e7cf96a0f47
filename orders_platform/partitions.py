"""The daily partitioning every partitioned asset shares: one partition per UTC order date."""

from dagster import DailyPartitionsDefinition

from orders_platform.settings import first_partition_day

# A partition key is an order date (`order_date` in fct_orders / revenue_daily). The first
# partition is the deployment's first day (ORDERS_FIRST_PARTITION_DAY, default 2025-01-01),
# the last is yesterday: today's orders are still arriving.
#
# The one setting read when the code location loads rather than when a run executes: Dagster
# needs the partitions to list the assets. Changing it takes a code-server restart. A later
# first day hides the earlier partitions from Dagster (their runs, materializations and the
# warehouse's rows for those days stay; nothing is deleted, and those days can no longer be
# launched or marked stale); an earlier one adds partitions that read as never materialized.
daily_partitions = DailyPartitionsDefinition(
    start_date=first_partition_day().isoformat(), timezone="UTC"
)

# The nightly re-merge's window, in days (the schedule in `orders_platform.schedules`); the
# late-data heal's widest span is derived from it. The lateness reports measure how much
# late data arrives outside it.
REMERGE_DAYS = 14
