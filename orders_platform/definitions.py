"""The Dagster code location: `dagster dev -m orders_platform.definitions` loads `defs`."""

from dagster import AssetKey, Definitions, in_process_executor

from orders_platform.checks.freshness import yesterday_materialized_by_deadline
from orders_platform.checks.lateness import remerge_window_covers_lateness
from orders_platform.checks.schema import build_schema_change_checks
from orders_platform.dbt_project import dbt_executable, orders_dbt_project
from orders_platform.ingestion.assets import orders_landing
from orders_platform.ingestion.landed_days import landed_order_days
from orders_platform.jobs import (
    ingest_orders_job,
    orders_checks_job,
    orders_daily_job,
    orders_history_job,
    orders_lateness_job,
    revenue_freshness_job,
)
from orders_platform.notify.alerts import failed_check_alert, run_failure_alert
from orders_platform.notify.revisions import WebhookRevisionNotifier
from orders_platform.notify.webhook import WebhookResource
from orders_platform.resources import LandingZoneResource, WarehouseResource
from orders_platform.schedules.schedules import (
    daily_partition_schedule,
    freshness_check_schedule,
    hourly_ingestion_schedule,
    nightly_remerge_schedule,
)
from orders_platform.sensors.landing import landing_file_sensor
from orders_platform.sensors.late_data import late_data_remerge_sensor
from orders_platform.transform.assets import (
    orders_daily_dbt_models,
    orders_dbt_models,
    orders_history_dbt_models,
    orders_lateness_dbt_models,
)
from orders_platform.transform.dbt_resource import OrdersDbtCliResource

defs = Definitions(
    assets=[
        orders_landing,
        landed_order_days,
        orders_dbt_models,
        orders_daily_dbt_models,
        orders_lateness_dbt_models,
        orders_history_dbt_models,
    ],
    asset_checks=[
        yesterday_materialized_by_deadline,
        remerge_window_covers_lateness,
        *build_schema_change_checks([AssetKey("fct_orders"), AssetKey("revenue_daily")]),
    ],
    jobs=[
        ingest_orders_job,
        orders_daily_job,
        orders_lateness_job,
        orders_history_job,
        orders_checks_job,
        revenue_freshness_job,
    ],
    schedules=[
        hourly_ingestion_schedule,
        daily_partition_schedule,
        nightly_remerge_schedule,
        freshness_check_schedule,
    ],
    sensors=[landing_file_sensor, late_data_remerge_sensor, run_failure_alert, failed_check_alert],
    resources={
        "warehouse": WarehouseResource(),
        "landing": LandingZoneResource(),
        "revision_notifier": WebhookRevisionNotifier(webhook=WebhookResource()),
        "webhook": WebhookResource(),
        "dbt": OrdersDbtCliResource(
            project_dir=orders_dbt_project(), dbt_executable=dbt_executable()
        ),
    },
    # Every step opens the single DuckDB file; running them in one process, one at a time,
    # means no step of a run ever waits on another step's lock (and no per-step process
    # start-up cost).
    executor=in_process_executor,
)
