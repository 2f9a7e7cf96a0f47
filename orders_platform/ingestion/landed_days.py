"""`landed_order_days`: which order dates each load touched, as Dagster data versions.

Ingestion records, in the same transaction as the rows, a new version for every order date a
load touches (the day, and the day a re-dated order leaves) in `orders_landing_days`. The
writer then publishes all versions beside the warehouse and reports one observation per
touched day on `landed_order_days`; the marts depend on it partition by partition
(`orders_platform.transform.translator`), so late data marks exactly those days stale.

The source asset lives with ingestion because ingestion is what changes it. Its observation
function reads only the published copy, never the warehouse, so observing never waits for
a writer's lock.
"""

import json
from datetime import date
from pathlib import Path

from dagster import (
    AssetObservation,
    DagsterInstance,
    DataVersion,
    DataVersionsByPartition,
    observable_source_asset,
)

from orders_platform import settings
from orders_platform.dagster_internals import DATA_VERSION_TAG
from orders_platform.partitions import daily_partitions

LANDED_ORDER_DAYS = "landed_order_days"


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
