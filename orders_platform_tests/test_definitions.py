"""The code location's shape: what users see in the Dagster UI and what the daemon runs."""

from datetime import UTC, datetime

from dagster import AssetKey, BackfillPolicy, build_schedule_context

from orders_platform.definitions import defs
from orders_platform.partitions import daily_partitions
from orders_platform.resources.warehouse import WRITER_POOL
from orders_platform.schedules.schedules import nightly_remerge_schedule

PARTITIONED = [AssetKey("fct_orders"), AssetKey("revenue_daily")]


def test_the_asset_graph_runs_from_landing_to_daily_revenue():
    graph = defs.resolve_asset_graph()
    assert graph.get(AssetKey("stg_orders")).parent_keys == {AssetKey("orders_landing")}
    landed = AssetKey("landed_order_days")
    assert graph.get(AssetKey("fct_orders")).parent_keys == {AssetKey("stg_orders"), landed}
    assert graph.get(AssetKey("revenue_daily")).parent_keys == {AssetKey("fct_orders"), landed}


def test_the_marts_share_one_daily_partitioning_and_backfill_in_a_single_run():
    graph = defs.resolve_asset_graph()
    for key in PARTITIONED:
        node = graph.get(key)
        assert node.partitions_def == daily_partitions
        assert node.backfill_policy == BackfillPolicy.single_run()


def test_every_asset_that_writes_the_warehouse_is_in_the_writer_pool():
    pools = {
        assets_def.node_def.pool
        for assets_def in defs.resolve_asset_graph().assets_defs
        if assets_def.is_materializable and assets_def.keys
    }
    assert pools == {WRITER_POOL}


def test_the_nightly_remerge_is_one_run_over_the_last_14_days():
    context = build_schedule_context(scheduled_execution_time=datetime(2026, 3, 15, 3, tzinfo=UTC))
    request = nightly_remerge_schedule(context)
    assert request.tags["dagster/asset_partition_range_start"] == "2026-03-01"
    assert request.tags["dagster/asset_partition_range_end"] == "2026-03-14"
