"""The daily partitioning every partitioned asset shares: one partition per UTC order date."""

from dagster import DailyPartitionsDefinition

# A partition key is an order date (`order_date` in fct_orders / revenue_daily). The last
# partition is yesterday: today's orders are still arriving.
daily_partitions = DailyPartitionsDefinition(start_date="2025-01-01", timezone="UTC")

# The nightly re-merge's window, in days (the schedule in `orders_platform.schedules`); the
# late-data heal's widest span is derived from it. The lateness reports measure how much
# late data arrives outside it.
REMERGE_DAYS = 14
