"""How many rows each table holds after a run: per day for the daily tables, else in total.

Read once dbt has exited, on the connection the dbt step already holds, with one query per
table: a grouped count over the run's days for a table keyed by day (Dagster then shows
each day's count on that day's materialization, `dagster/partition_row_count`), one count
for a table that is not (`dagster/row_count`). A view holds no rows (counting it would run
its query), so it gets neither.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import duckdb
from dagster import TableSchema

# The column every daily table is partitioned by (the UTC order date): a Dagster partition key.
PARTITION_COLUMN = "order_date"
# Dagster's standard keys for them (its `TableMetadataSet`), which the UI shows as such.
PARTITION_ROW_COUNT = "dagster/partition_row_count"
ROW_COUNT = "dagster/row_count"


def _is_view(node: Mapping[str, Any]) -> bool:
    return node["config"]["materialized"] == "view"


def rows_by_day(
    conn: duckdb.DuckDBPyConnection, quoted_table: str, days: Sequence[str]
) -> dict[str, int]:
    """Rows per day of `days` (0 for a day without rows), in one grouped query."""
    placeholders = ", ".join("?" * len(days))
    counted = conn.execute(
        f"select cast({PARTITION_COLUMN} as varchar), count(*) from {quoted_table} "  # noqa: S608
        f"where {PARTITION_COLUMN} in ({placeholders}) group by 1",
        list(days),
    ).fetchall()
    return dict.fromkeys(days, 0) | dict(counted)


def row_count_metadata(
    conn: duckdb.DuckDBPyConnection,
    node: Mapping[str, Any],
    quoted_table: str,
    schema: TableSchema,
    partition_keys: Sequence[str],
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """(metadata for every event of the table's output, metadata by partition key).

    A daily table of a partitioned run gets its per-day counts; any other table its total.
    """
    if _is_view(node):
        return {}, {}
    if partition_keys and PARTITION_COLUMN in {column.name for column in schema.columns}:
        counts = rows_by_day(conn, quoted_table, partition_keys)
        return {}, {day: {PARTITION_ROW_COUNT: n} for day, n in counts.items()}
    [(total,)] = conn.execute(f"select count(*) from {quoted_table}").fetchall()  # noqa: S608
    return {ROW_COUNT: total}, {}
