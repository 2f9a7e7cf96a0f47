"""Ingestion's tables on Spark: the same names and columns as on DuckDB, as parquet tables.

Spark's parquet tables have no transactions, so a load is made safe another way:
`orders_landing`, `orders_rejected` and `orders_landing_event_ids` are partitioned by
`load_id`, and a load writes its
ledger rows (`orders_landing_files`) last. A load that died before its ledger rows were
written left partitions no ledger row names; the next load drops them before it reads
anything (`drop_unfinished_loads`), so a file is still loaded exactly once.
`orders_landing_days` is partitioned by `order_date`, so a load replaces exactly the days it
touched (dynamic partition overwrite), as DuckDB's `insert or replace` does.
"""

from __future__ import annotations

import re
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from orders_platform.ingestion.dialects import SparkSQL
from orders_platform.ingestion.schema import (
    DAYS_TABLE,
    EVENT_IDS_TABLE,
    FILES_TABLE,
    LANDING_TABLE,
    PLATFORM_COLUMNS,
    PRODUCER_COLUMNS,
    REJECTED_TABLE,
)
from orders_platform.resources.spark import SPARK_DATABASE
from orders_platform.resources.spark_catalog import spark_parquet_views

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

_SPARK_TYPES = {"varchar": "string"}

# Partition columns come last in a Spark table, so the landing table lists load_id last.
_LANDING_COLUMNS = {
    name: _SPARK_TYPES.get(sql_type, sql_type)
    for name, sql_type in (PRODUCER_COLUMNS | PLATFORM_COLUMNS).items()
    if name != "load_id"
} | {"load_id": "string"}

# Column name -> Spark type, per table, and the partition column of each.
SPARK_TABLES: dict[str, tuple[dict[str, str], str]] = {
    LANDING_TABLE: (_LANDING_COLUMNS, "load_id"),
    REJECTED_TABLE: (
        {
            "source_file": "string",
            "source_line_number": "bigint",
            "raw_line": "string",
            "reason": "string",
            "reason_detail": "string",
            "event_id": "string",
            "rejected_at": "timestamp",
            "load_id": "string",
        },
        "load_id",
    ),
    FILES_TABLE: (
        {
            "source_file": "string",
            "file_bytes": "bigint",
            "line_count": "bigint",
            "loaded_count": "bigint",
            "rejected_count": "bigint",
            "retry_count": "bigint",
            "event_ingested_at": "timestamp",
            "load_id": "string",
        },
        "",
    ),
    DAYS_TABLE: (
        {"version": "string", "updated_at": "timestamp", "order_date": "date"},
        "order_date",
    ),
    # created by `_CREATE_EVENT_IDS`, after the landing table it is filled from
    EVENT_IDS_TABLE: ({"id_hash": "bigint", "event_id": "string", "load_id": "string"}, "load_id"),
}

# The event-id table (`schema.EVENT_IDS_TABLE`) is created from the landing table, so that a
# warehouse from before it gets every landed id: each id's first row (not a retry), in the
# partition of the load that landed it, so that dropping an unfinished load drops its ids.
_CREATE_EVENT_IDS = """
create table {event_ids} using parquet partitioned by (load_id) as
select {id_hash} as id_hash, event_id, load_id from {landing} where not is_retry
"""

_LOAD_ID = re.compile(r"^[A-Za-z0-9_.-]+$")


def read_spark_tables(warehouse: Path) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
    """The warehouse's tables read without Spark, ingestion's typed even before their first
    row (the nothing-lost check counts `orders_rejected` after a load that rejected none)."""
    return spark_parquet_views(
        warehouse, empty_tables={table: columns for table, (columns, _) in SPARK_TABLES.items()}
    )


def qualified(table: str) -> str:
    return f"{SPARK_DATABASE}.{table}"


def ensure_spark_schema(spark: SparkSession) -> list[str]:
    """Create the ingestion tables that do not exist yet; return what was created."""
    existing = {row.tableName for row in spark.sql(f"show tables in {SPARK_DATABASE}").collect()}
    changes = []
    for table, (columns, partition) in SPARK_TABLES.items():
        if table in existing:
            continue
        if table == EVENT_IDS_TABLE:
            spark.sql(
                _CREATE_EVENT_IDS.format(
                    event_ids=qualified(EVENT_IDS_TABLE),
                    id_hash=SparkSQL().id_hash("event_id"),
                    landing=qualified(LANDING_TABLE),
                )
            )
            changes.append(f"created {table} from {LANDING_TABLE}")
            continue
        ddl = ", ".join(f"{name} {sql_type}" for name, sql_type in columns.items())
        partitioned = f" partitioned by ({partition})" if partition else ""
        spark.sql(f"create table {qualified(table)} ({ddl}) using parquet{partitioned}")
        changes.append(f"created {table}")
    return changes


def checked_load_id(load_id: str) -> str:
    """A load id safe to name a partition with (Spark takes no bound values there)."""
    if not _LOAD_ID.match(load_id):
        raise ValueError(f"load id {load_id!r}: only letters, digits, '.', '_' and '-'")
    return load_id


def drop_unfinished_loads(spark: SparkSession, finished: set[str]) -> list[str]:
    """Drop the partitions of loads not among the `finished` ones (those with ledger rows);
    return the ids of the loads dropped."""
    dropped: set[str] = set()
    for table in (LANDING_TABLE, REJECTED_TABLE, EVENT_IDS_TABLE):
        for (spec,) in spark.sql(f"show partitions {qualified(table)}").collect():
            load_id = spec.removeprefix("load_id=")
            if load_id not in finished:
                spark.sql(
                    f"alter table {qualified(table)} drop if exists "
                    f"partition (load_id = '{checked_load_id(load_id)}')"
                )
                dropped.add(load_id)
    return sorted(dropped)
