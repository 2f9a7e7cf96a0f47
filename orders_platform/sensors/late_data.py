"""Late data, seen and healed.

How a late event for an old order date D reaches the revenue assets:
1. Ingestion records, in the same transaction as the rows, a new version for every order
   date the load touches (D, and the day a re-dated order leaves) in `orders_landing_days`,
   then reports one observation per touched day on `landed_order_days` (below).
2. Every mart depends on `landed_order_days` partition by partition, so Dagster shows
   exactly those partitions of fct_orders and revenue_daily as STALE, with the cause
   "landed_order_days[D] has a new data version"; untouched days stay FRESH.
3. The marts' automation condition (eager, for every partition, not only the latest) asks for
   those partitions, and `late_data_remerge_sensor` turns the request into one single-run
   backfill, queued behind the DuckDB writer pool. Stop that sensor to mark stale only.

Nothing here opens the warehouse: the observation function reads the copy of the versions
that ingestion publishes next to the warehouse after each commit.
"""

import json
from datetime import date
from pathlib import Path

from dagster import (
    AssetObservation,
    AssetSelection,
    AutomationCondition,
    AutomationConditionSensorDefinition,
    DagsterInstance,
    DataVersion,
    DataVersionsByPartition,
    DefaultSensorStatus,
    observable_source_asset,
)
from dagster._core.definitions.data_version import DATA_VERSION_TAG

from orders_platform import settings
from orders_platform.partitions import daily_partitions

LANDED_ORDER_DAYS = "landed_order_days"

# `eager()` spelled out, with changes for the staging views, which are re-created by every
# ingestion run and hold no data of their own:
# - it reaches every partition (eager() only looks at the latest time window, and late data
#   is about the others);
# - a re-created view is not an update;
# - a view being re-created does not hold the marts back. Ingestion reports a late day as soon
#   as its rows commit, while its run is still refreshing stg_orders. Waiting on that would
#   request revenue_daily (which depends on the day directly) without fct_orders, and that run
#   fails reconciliation, as it must. Requested together, the marts queue behind the
#   ingestion run in the writer pool and run as one backfill once it is done.
_STAGING = AssetSelection.groups("staging")
EAGER_FOR_EVERY_PARTITION = (
    (
        AutomationCondition.newly_missing()
        | AutomationCondition.any_deps_updated().ignore(_STAGING)
    ).since_last_handled()
    & ~AutomationCondition.any_deps_missing()
    & ~AutomationCondition.any_deps_in_progress().ignore(_STAGING)
    & ~AutomationCondition.in_progress()
).with_label("eager, every partition, landing-driven")


def published_versions_path() -> Path:
    """Where ingestion publishes the per-day versions: beside the DuckDB file, or in the
    Spark warehouse directory."""
    if settings.engine() == "spark":
        return settings.spark_warehouse() / "landing_days.json"
    return settings.warehouse_path().with_suffix(".landing_days.json")


def publish_versions(versions: dict[date, str]) -> None:
    """Atomically replace the published per-day versions (called by the writer only)."""
    path = published_versions_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".json.tmp")
    partial.write_text(json.dumps({day.isoformat(): v for day, v in sorted(versions.items())}))
    partial.replace(path)


def record_day_versions(
    instance: DagsterInstance, versions: dict[date, str], touched: list[date]
) -> list[str]:
    """Publish all day versions, and observe the touched days' new versions in Dagster.

    Only days that are partitions are observed (today's is not, until the day is over).
    Returns the partition keys observed.
    """
    publish_versions(versions)
    valid = set(daily_partitions.get_partition_keys())
    observed = [day.isoformat() for day in touched if day.isoformat() in valid]
    for key in observed:
        instance.report_runless_asset_event(
            AssetObservation(
                asset_key=LANDED_ORDER_DAYS,
                partition=key,
                tags={DATA_VERSION_TAG: versions[date.fromisoformat(key)]},
            )
        )
    return observed


@observable_source_asset(
    name=LANDED_ORDER_DAYS,
    partitions_def=daily_partitions,
    group_name="ingestion",
    description=(
        "Landed order events by order date. Each day's data version changes when a load "
        "brings events for it (or re-dates an order away from it); the marts depend on it "
        "partition by partition, so late data marks exactly the affected days stale."
    ),
)
def landed_order_days() -> DataVersionsByPartition:
    path = published_versions_path()
    versions = json.loads(path.read_text()) if path.exists() else {}
    valid = set(daily_partitions.get_partition_keys())
    return DataVersionsByPartition(
        {day: DataVersion(v) for day, v in versions.items() if day in valid}
    )


late_data_remerge_sensor = AutomationConditionSensorDefinition(
    "late_data_remerge_sensor",
    target=AssetSelection.groups("marts"),
    emit_backfills=True,
    use_user_code_server=True,
    default_status=DefaultSensorStatus.RUNNING,
    description=(
        "Re-merges the partitions late data made stale, as single-run backfills. "
        "Stop it to only mark partitions stale (review first, then launch a backfill)."
    ),
)
