"""Late data, healed: the sensor that re-merges the partitions it made stale.

How a late event for an old order date D reaches the revenue assets:
1. Ingestion gives D a new data version on `landed_order_days`
   (`orders_platform.ingestion.landed_days`).
2. Every mart depends on `landed_order_days` partition by partition, so Dagster shows
   exactly those partitions of fct_orders and revenue_daily as STALE, with the cause
   "landed_order_days[D] has a new data version"; untouched days stay FRESH.
3. The marts' automation condition (`orders_platform.transform.automation`: eager, for every
   partition, not only the latest) asks for those partitions, and this sensor turns the
   request into one single-run backfill, queued behind the DuckDB writer pool. Stale days
   apart are requested with the days between, so they are one run. Stop it to mark stale
   only.
4. Once they are re-merged, the lateness reports and the order history of the same days are
   requested (`after_the_marts`) and built in a run of their own: the heal never waits for
   them. The history run links each revision to the orders behind it and sends the
   #data-platform notice.
"""

from dagster import AutomationConditionSensorDefinition, DefaultSensorStatus

from orders_platform.transform.groups import daily_assets

# A late file's heal waits for this sensor's tick once ingestion has reported the day, so it
# ticks on every second pass of the daemon's sensor loop, which passes every 5 s (fixed in
# Dagster 1.13): every 10 s, where Dagster's default is 30 s. The interval counts from the
# last tick's start, so 10 would slip to every third pass whenever a pass comes a moment
# early; 9 does not. What a tick costs: `make bench`'s late-data detection per tick.
EVALUATION_INTERVAL_SECONDS = 9

late_data_remerge_sensor = AutomationConditionSensorDefinition(
    "late_data_remerge_sensor",
    target=daily_assets(),
    minimum_interval_seconds=EVALUATION_INTERVAL_SECONDS,
    emit_backfills=True,
    use_user_code_server=True,
    default_status=DefaultSensorStatus.RUNNING,
    description=(
        "Re-merges the partitions late data made stale, as one single-run backfill. "
        "Stop it to only mark partitions stale (review first, then launch a backfill)."
    ),
)
