"""The `orders_landing` asset: load new landing files into the warehouse."""

from dagster import (
    AssetExecutionContext,
    MaterializeResult,
    MetadataValue,
    asset,
)

from orders_platform import settings
from orders_platform.ingestion.landed_days import record_day_versions
from orders_platform.ingestion.load_steps import LoadReport
from orders_platform.ingestion.loader import load_new_files
from orders_platform.ingestion.nothing_lost import NOTHING_LOST, check_nothing_lost
from orders_platform.ingestion.spark_schema import read_spark_tables
from orders_platform.metadata import records_table
from orders_platform.resources import LandingZoneResource, WarehouseResource
from orders_platform.resources.warehouse import WRITER_POOL

_DAY_VERSIONS = "select order_date, version from orders_landing_days"


def _load_on_spark(landing: LandingZoneResource, *, load_id: str) -> LoadReport:
    """Spark ingestion (`ORDERS_ENGINE=spark`): pyspark is imported only on this engine."""
    from orders_platform.ingestion.spark_loader import load_new_files_spark
    from orders_platform.resources.spark import spark_session

    with spark_session() as spark:
        return load_new_files_spark(spark, landing.directory(), load_id=load_id)


@asset(
    key="orders_landing",
    group_name="ingestion",
    pool=WRITER_POOL,
    kinds={"duckdb"},
    check_specs=[NOTHING_LOST],
    description=(
        "Every valid order event line from the landing zone, stamped with its arrival time "
        "(event_ingested_at). Invalid lines go to orders_rejected with a reason; each file "
        "is loaded exactly once and accounted for in orders_landing_files."
    ),
)
def orders_landing(
    context: AssetExecutionContext, warehouse: WarehouseResource, landing: LandingZoneResource
) -> MaterializeResult:
    if settings.engine() == "spark":
        report = _load_on_spark(landing, load_id=context.run.run_id)
        # the session (and its JVM) has ended: dbt's Spark session may start after this step
        with read_spark_tables(settings.spark_warehouse()) as conn:
            nothing_lost = check_nothing_lost(conn)
            versions = dict(conn.execute(_DAY_VERSIONS).fetchall())
    else:
        with warehouse.get_connection() as conn:
            report = load_new_files(conn, landing.directory(), load_id=context.run.run_id)
            nothing_lost = check_nothing_lost(conn)
            versions = dict(conn.execute(_DAY_VERSIONS).fetchall())
    touched = record_day_versions(context.instance, versions, report.touched_days)
    for change in report.migrations:
        context.log.info(f"schema: {change}")
    if report.rejected:
        context.log.warning(
            f"{report.rejected} line(s) quarantined in orders_rejected: "
            + ", ".join(f"{r}={n}" for r, n in sorted(report.rejected_by_reason.items()))
        )
    reasons = [
        {"reason": reason, "lines": count}
        for reason, count in sorted(report.rejected_by_reason.items())
    ]
    return MaterializeResult(
        check_results=[nothing_lost],
        metadata={
            "files_loaded": len(report.files),
            "files_skipped_already_loaded": report.skipped_files,
            "lines": report.lines,
            "rows_loaded": report.loaded,
            "rows_rejected": report.rejected,
            "retries": report.retries,
            "order_dates_touched": len(touched),
            "order_dates_touched_list": MetadataValue.text(", ".join(touched) or "none"),
            "event_ingested_at": MetadataValue.text(report.ingested_at.isoformat() + "Z"),
        }
        | ({"rejected_by_reason": records_table(reasons, limit=len(reasons))} if reasons else {}),
    )
