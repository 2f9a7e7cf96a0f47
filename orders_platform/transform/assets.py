"""The dbt project as Dagster assets.

Incremental models (the marts) are daily-partitioned and re-merged by window: a backfill of
any number of days runs dbt once (`BackfillPolicy.single_run`) with the window as dbt vars.
The lateness reports and the order history (with the orders behind each revision, which the
#data-platform notice quotes) are partitioned the same way but are separate asset sets: they
read the marts and gate nothing, so automation builds them after a re-merge, in runs of
their own, and neither the nightly re-merge nor a late-data heal waits for them. Everything else
(the staging view) is unpartitioned. All of them write the DuckDB file, so all sit in the
single-writer pool.

dbt's own tests are the checks that must block: in `dbt build`, a failing test on
fct_orders (whole-table uniqueness, reconciliation with the landing table) makes dbt skip
revenue_daily, so bad data never reaches it in that run. Once dbt has exited, its events
are published with per-partition check results and the tables' actual schemas
(`orders_platform.transform.dbt_results`), and a failed build fails the run with a summary.
The lateness table also carries its trailing-window figures and completeness curve
(`orders_platform.lateness`), so the UI plots them over materializations.
"""

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    BackfillPolicy,
    Config,
    DagsterInvariantViolationError,
    Failure,
    PartitionKeyRange,
)
from dagster_dbt import dbt_assets
from pydantic import Field

from orders_platform import settings
from orders_platform.dagster_internals import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
    PARTITION_NAME_TAG,
)
from orders_platform.dbt_project import orders_dbt_project
from orders_platform.lateness import LATENESS_TABLE, lateness_metadata
from orders_platform.partitions import daily_partitions
from orders_platform.resources.revision_notifier import RevisionNotifier
from orders_platform.resources.warehouse import WRITER_POOL, WarehouseResource
from orders_platform.transform.dbt_args import (
    INDIRECT_SELECTION_ENV,
    DateWindow,
    dbt_build_args,
    dbt_engine_env,
    dbt_run_env,
    dbt_target,
)
from orders_platform.transform.dbt_resource import OrdersDbtCliResource
from orders_platform.transform.dbt_results import ModelMetadata, failure_summary, publish
from orders_platform.transform.translator import OrdersDbtTranslator

# The marts are daily-partitioned (incremental tables and the as-of views over them, built in
# the same dbt invocation); so are the lateness reports and the order history, each built
# after them in runs of their own so that no re-merge waits for them; staging is not
# partitioned.
PARTITIONED_MODELS = "path:models/marts"
LATENESS_MODELS = "path:models/lateness"
HISTORY_MODELS = "path:models/history"

# Models whose materializations carry more than their schema.
MODEL_METADATA: dict[str, ModelMetadata] = {LATENESS_TABLE: lateness_metadata}


class DbtBuildConfig(Config):
    full_refresh: bool = Field(
        default=False,
        description="Rebuild the selected tables from scratch. Refused on the prod target.",
    )


def run_partition_keys(context: AssetExecutionContext) -> list[str]:
    """The daily partition keys this run covers.

    A run that only executes checks has no partitions definition of its own, so its range
    is read from the run's partition tags, the same ones a backfill or the CLI sets.
    """
    try:
        keys = list(context.partition_keys)
    except DagsterInvariantViolationError:
        keys = []
    if keys:
        return keys
    tags = context.run.tags
    if ASSET_PARTITION_RANGE_START_TAG in tags:
        key_range = PartitionKeyRange(
            tags[ASSET_PARTITION_RANGE_START_TAG], tags[ASSET_PARTITION_RANGE_END_TAG]
        )
        return list(daily_partitions.get_partition_keys_in_range(key_range))
    if PARTITION_NAME_TAG in tags:
        return [tags[PARTITION_NAME_TAG]]
    raise Failure(description="Choose a partition or a partition range for this run.")


def _build(
    context: AssetExecutionContext,
    dbt: OrdersDbtCliResource,
    warehouse: WarehouseResource,
    config: DbtBuildConfig,
    partition_keys: Sequence[str],
    revision_notifier: RevisionNotifier | None = None,
) -> Iterator[Any]:
    """Run `dbt build` for the run's window (none when unpartitioned), then publish it."""
    window = DateWindow.from_partition_keys(list(partition_keys)) if partition_keys else None
    engine = settings.engine()
    args = dbt_build_args(
        window,
        target=dbt_target(engine, settings.dbt_target()),
        full_refresh=config.full_refresh,
        settings_vars=settings.dbt_var_settings(),
        checks_only=not context.selected_asset_keys,
    )
    env = INDIRECT_SELECTION_ENV | dbt_run_env(window, run_id=context.run.run_id)
    env |= dbt_engine_env(
        engine,
        spark_master=settings.spark_master(),
        spark_warehouse=str(settings.spark_warehouse()),
    )
    invocation = dbt.build(args, env=env, context=context)
    events = list(invocation.stream())  # dbt has exited: the file lock is free again
    dbt.keep_partial_parse(invocation)
    with warehouse.read() as conn:
        yield from publish(
            events,
            context=context,
            manifest=invocation.manifest,
            conn=conn,
            partition_keys=partition_keys,
            model_metadata=MODEL_METADATA,
        )
        if revision_notifier is not None:
            yield from revision_notifier.notify(context, conn)
    if not invocation.is_successful():
        summary = failure_summary(invocation.get_artifact("run_results.json"))
        context.log.error(summary)
        raise Failure(description=summary)


def daily_dbt_assets(select: str, name: str) -> Callable[..., AssetsDefinition]:
    """`@dbt_assets` for one daily-partitioned folder: a backfill of any range is one run
    and one dbt invocation, in the single-writer pool."""
    return dbt_assets(
        manifest=orders_dbt_project().manifest_path,
        project=orders_dbt_project(),
        select=select,
        partitions_def=daily_partitions,
        backfill_policy=BackfillPolicy.single_run(),
        dagster_dbt_translator=OrdersDbtTranslator(),
        pool=WRITER_POOL,
        name=name,
    )


@daily_dbt_assets(PARTITIONED_MODELS, "orders_daily_dbt_models")
def orders_daily_dbt_models(
    context: AssetExecutionContext,
    dbt: OrdersDbtCliResource,
    warehouse: WarehouseResource,
    config: DbtBuildConfig,
) -> Iterator[Any]:
    """Re-merge the orders of the run's partition window (one day, or a backfill's range)."""
    yield from _build(context, dbt, warehouse, config, run_partition_keys(context))


@daily_dbt_assets(LATENESS_MODELS, "orders_lateness_dbt_models")
def orders_lateness_dbt_models(
    context: AssetExecutionContext,
    dbt: OrdersDbtCliResource,
    warehouse: WarehouseResource,
    config: DbtBuildConfig,
) -> Iterator[Any]:
    """Profile how late the run's days arrived, after their marts were re-merged."""
    yield from _build(context, dbt, warehouse, config, run_partition_keys(context))


@daily_dbt_assets(HISTORY_MODELS, "orders_history_dbt_models")
def orders_history_dbt_models(
    context: AssetExecutionContext,
    dbt: OrdersDbtCliResource,
    warehouse: WarehouseResource,
    revision_notifier: RevisionNotifier,
    config: DbtBuildConfig,
) -> Iterator[Any]:
    """Record the order versions of the run's days and link each new revision of a day to
    the orders that caused it; then announce those revisions."""
    yield from _build(
        context, dbt, warehouse, config, run_partition_keys(context), revision_notifier
    )


@dbt_assets(
    manifest=orders_dbt_project().manifest_path,
    project=orders_dbt_project(),
    exclude=f"{PARTITIONED_MODELS} {LATENESS_MODELS} {HISTORY_MODELS}",
    dagster_dbt_translator=OrdersDbtTranslator(),
    pool=WRITER_POOL,
    name="orders_dbt_models",
)
def orders_dbt_models(
    context: AssetExecutionContext,
    dbt: OrdersDbtCliResource,
    warehouse: WarehouseResource,
    config: DbtBuildConfig,
) -> Iterator[Any]:
    """Build the unpartitioned models (the staging view)."""
    yield from _build(context, dbt, warehouse, config, partition_keys=[])
