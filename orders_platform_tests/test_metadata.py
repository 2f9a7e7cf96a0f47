"""The standard metadata a Dagster user expects: row counts per day, the dbt column
descriptions beside the actual types, owners and code references, tables as tables."""

from datetime import date, datetime
from decimal import Decimal

import pytest
from dagster import AssetKey, AssetRecordsFilter, TableMetadataValue

from orders_platform.definitions import defs
from orders_platform.metadata import records_table
from orders_platform.settings import DBT_PROJECT_DIR, REPO_ROOT

FOURTEEN_DAYS = [f"2026-03-{day:02d}" for day in range(1, 15)]
OWNER = "team:data-platform"


def run_materializations(platform, asset: str, run_id: str) -> dict:
    """The materializations `run_id` recorded for `asset`, by partition."""
    records = platform.instance.fetch_materializations(
        AssetRecordsFilter(asset_key=AssetKey(asset)), limit=1000
    ).records
    return {
        record.partition_key: record.asset_materialization
        for record in records
        if record.run_id == run_id
    }


@pytest.mark.slow
@pytest.mark.parametrize("table", ["fct_orders", "revenue_daily", "revenue_daily_revisions"])
def test_each_day_of_a_14_day_run_carries_its_own_row_count(
    late_merged_platform, late_merged_snapshot, table
):
    materializations = run_materializations(
        late_merged_platform, table, late_merged_snapshot.facts["run_id"]
    )
    assert sorted(materializations) == FOURTEEN_DAYS, "one materialization per day, no more"
    counted = {
        day.isoformat(): n
        for day, n in late_merged_platform.rows(
            f"select order_date, count(*) from {table} group by 1"
        )
    }
    recorded = {
        day: m.metadata["dagster/partition_row_count"].value for day, m in materializations.items()
    }
    assert recorded == {day: counted.get(day, 0) for day in FOURTEEN_DAYS}


@pytest.mark.slow
def test_a_view_gets_no_row_count(late_merged_platform, late_merged_snapshot):
    materializations = run_materializations(
        late_merged_platform, "finance_revenue_daily", late_merged_snapshot.facts["run_id"]
    )
    assert sorted(materializations) == FOURTEEN_DAYS
    for materialization in materializations.values():
        assert "dagster/partition_row_count" not in materialization.metadata
        assert "dagster/row_count" not in materialization.metadata


@pytest.mark.slow
def test_the_column_schema_has_the_actual_types_and_the_dbt_descriptions(
    late_merged_platform, late_merged_snapshot
):
    materializations = run_materializations(
        late_merged_platform, "fct_orders", late_merged_snapshot.facts["run_id"]
    )
    schema = materializations["2026-03-05"].metadata["dagster/column_schema"].value
    columns = {column.name: column for column in schema.columns}
    assert columns["previous_order_date"].type == "date"
    assert columns["previous_order_date"].description.startswith(
        "The date the order had before a late snapshot last re-dated it"
    )
    assert columns["amount"].type.startswith("decimal")
    assert all(column.description for column in schema.columns), "every column is described"


def test_dbt_assets_have_the_dbt_owner_and_link_to_their_sql_and_python():
    graph = defs.resolve_asset_graph()
    fct_orders = graph.get(AssetKey("fct_orders"))
    assert fct_orders.owners == [OWNER]
    references = fct_orders.metadata["dagster/code_references"].code_references
    paths = {reference.file_path for reference in references}
    assert str(DBT_PROJECT_DIR / "models" / "marts" / "fct_orders.sql") in paths
    assert str(REPO_ROOT / "orders_platform" / "transform" / "assets.py") in paths
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if node.is_materializable and "dagster_dbt/unique_id" in node.metadata:
            assert node.owners == [OWNER], key


def test_the_definition_column_schema_carries_the_dbt_descriptions():
    fct_orders = defs.resolve_asset_graph().get(AssetKey("fct_orders"))
    schema = fct_orders.metadata["dagster/column_schema"]
    descriptions = {column.name: column.description for column in schema.columns}
    assert descriptions["previous_order_date"].startswith("The date the order had before")


def test_records_become_a_typed_table_of_plain_values():
    table = records_table(
        [
            {
                "order_date": date(2026, 3, 5),
                "revised_at": datetime(2026, 3, 6, 1, 2, 3),
                "net_revenue_delta": Decimal("-41.20"),
                "orders_delta": -1,
                "revised_final_day": False,
                "arrival_load_ids": ["load-1", "load-2"],
                "note": None,
            },
            *({"order_date": date(2026, 3, day)} for day in range(6, 20)),
        ]
    )
    assert isinstance(table, TableMetadataValue)
    assert [(c.name, c.type) for c in table.schema.columns] == [
        ("order_date", "date"),
        ("revised_at", "timestamp"),
        ("net_revenue_delta", "float"),
        ("orders_delta", "int"),
        ("revised_final_day", "bool"),
        ("arrival_load_ids", "string"),
        ("note", "string"),
    ]
    assert table.records[0].data == {
        "order_date": "2026-03-05",
        "revised_at": "2026-03-06T01:02:03",
        "net_revenue_delta": -41.2,
        "orders_delta": -1,
        "revised_final_day": False,
        "arrival_load_ids": "load-1, load-2",
        "note": None,
    }
    assert len(table.records) == 10, "rows past the limit are left out"
