"""The dbt project as Dagster assets.

Incremental models (the marts) are daily-partitioned and re-merged by window: a backfill of
any number of days runs dbt once (`BackfillPolicy.single_run`) with the window as dbt vars.
Everything else (the staging view) is unpartitioned. Both write the DuckDB file, so both
sit in the single-writer pool.
"""

from collections.abc import Iterator
from typing import Any

from dagster import AssetExecutionContext, BackfillPolicy, Config
from dagster_dbt import DbtCliResource, dbt_assets
from pydantic import Field

from orders_platform import settings
from orders_platform.dbt_project import orders_dbt_project
from orders_platform.partitions import daily_partitions
from orders_platform.resources.warehouse import WRITER_POOL
from orders_platform.transform.dbt_args import DateWindow, dbt_build_args
from orders_platform.transform.translator import OrdersDbtTranslator

PARTITIONED_MODELS = "config.materialized:incremental"


class DbtBuildConfig(Config):
    full_refresh: bool = Field(
        default=False,
        description="Rebuild the selected tables from scratch. Refused on the prod target.",
    )


@dbt_assets(
    manifest=orders_dbt_project().manifest_path,
    select=PARTITIONED_MODELS,
    partitions_def=daily_partitions,
    backfill_policy=BackfillPolicy.single_run(),
    dagster_dbt_translator=OrdersDbtTranslator(),
    pool=WRITER_POOL,
    name="orders_daily_dbt_models",
)
def orders_daily_dbt_models(
    context: AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig
) -> Iterator[Any]:
    """Re-merge the orders of the run's partition window (one day, or a backfill's range)."""
    window = DateWindow.from_time_window(*context.partition_time_window)
    args = dbt_build_args(window, target=settings.dbt_target(), full_refresh=config.full_refresh)
    yield from dbt.cli(args, context=context).stream()


@dbt_assets(
    manifest=orders_dbt_project().manifest_path,
    exclude=PARTITIONED_MODELS,
    dagster_dbt_translator=OrdersDbtTranslator(),
    pool=WRITER_POOL,
    name="orders_dbt_models",
)
def orders_dbt_models(
    context: AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig
) -> Iterator[Any]:
    """Build the unpartitioned models (the staging view)."""
    args = dbt_build_args(None, target=settings.dbt_target(), full_refresh=config.full_refresh)
    yield from dbt.cli(args, context=context).stream()
