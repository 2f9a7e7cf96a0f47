"""Asset jobs: land new files, and re-merge a window of daily partitions."""

from dagster import AssetSelection, define_asset_job

from orders_platform.checks.freshness import yesterday_materialized_by_deadline
from orders_platform.ingestion.assets import orders_landing
from orders_platform.transform.assets import (
    orders_daily_dbt_models,
    orders_dbt_models,
    orders_history_dbt_models,
    orders_lateness_dbt_models,
)

ingest_orders_job = define_asset_job(
    "ingest_orders_job",
    selection=AssetSelection.assets(orders_landing) | AssetSelection.assets(orders_dbt_models),
    description="Load new landing files and refresh the staging view.",
)

# One job for the daily run and for re-merges of any range: a range run re-merges every day
# in it with a single dbt invocation.
orders_daily_job = define_asset_job(
    "orders_daily_job",
    selection=AssetSelection.assets(orders_daily_dbt_models),
    description="Re-merge fct_orders and revenue_daily for a partition or a partition range.",
)

# The lateness reports for a partition range, after its marts: what automation runs after
# every re-merge, and what to launch by hand when the late-data sensor is stopped.
orders_lateness_job = define_asset_job(
    "orders_lateness_job",
    selection=AssetSelection.assets(orders_lateness_dbt_models),
    description="Profile how late the data of a partition range arrived (docs/lateness.md).",
)

# The order history for a partition range, after its marts, and the orders behind each new
# revision of its days; it sends the #data-platform revision notice (docs/history.md).
orders_history_job = define_asset_job(
    "orders_history_job",
    selection=AssetSelection.assets(orders_history_dbt_models),
    description="Record order versions and announce revisions of a partition range.",
)

# Re-run the marts' checks (reconciliation, uniqueness, schema) for a partition range
# without re-merging anything: what an operator launches to confirm a suspicion.
orders_checks_job = define_asset_job(
    "orders_checks_job",
    selection=AssetSelection.checks_for_assets(orders_daily_dbt_models),
    description="Run the checks of fct_orders and revenue_daily for a partition range.",
)

revenue_freshness_job = define_asset_job(
    "revenue_freshness_job",
    selection=AssetSelection.checks(yesterday_materialized_by_deadline),
    description="Is yesterday's revenue_daily partition materialized by the deadline?",
)
