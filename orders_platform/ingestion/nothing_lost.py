"""Nothing lost: every line of every landed file is either in orders_landing or quarantined.

Evaluated inside the ingestion step (same connection, same writer lock), so it is part of
the `orders_landing` asset and lives with it, not with the checks that run on their own.
The total is a cheap count; only when it does not add up are the files compared one by one,
so the check can name them without scanning all history on every load.
"""

from __future__ import annotations

from typing import Any

import duckdb
from dagster import AssetCheckResult, AssetCheckSeverity, AssetCheckSpec

from orders_platform.metadata import records_table

NOTHING_LOST = AssetCheckSpec(
    name="every_landed_line_is_accounted_for",
    asset="orders_landing",
    blocking=True,
    description=(
        "For every landing file and in total: lines = rows in orders_landing + rows in "
        "orders_rejected, and each file's recorded counts match the tables."
    ),
)

_TOTALS = """
select
    (select coalesce(sum(line_count), 0) from orders_landing_files) as lines,
    (select count(*) from orders_landing where source_file is not null) as loaded,
    (select count(*) from orders_rejected) as rejected
"""

_FILES_THAT_DO_NOT_ADD_UP = """
with landed as (
    select source_file, count(*) as rows_loaded from orders_landing
    where source_file is not null
    group by source_file
),
rejected as (
    select source_file, count(*) as rows_rejected from orders_rejected group by source_file
)
select
    files.source_file,
    files.line_count as lines,
    coalesce(landed.rows_loaded, 0) as loaded,
    coalesce(rejected.rows_rejected, 0) as rejected,
    files.line_count - coalesce(landed.rows_loaded, 0) - coalesce(rejected.rows_rejected, 0)
        as unaccounted
from orders_landing_files as files
left join landed on landed.source_file = files.source_file
left join rejected on rejected.source_file = files.source_file
where files.line_count <> coalesce(landed.rows_loaded, 0) + coalesce(rejected.rows_rejected, 0)
   or files.loaded_count <> coalesce(landed.rows_loaded, 0)
   or files.rejected_count <> coalesce(rejected.rows_rejected, 0)
order by files.source_file
"""


def files_that_do_not_add_up(conn: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    cursor = conn.execute(_FILES_THAT_DO_NOT_ADD_UP)
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def check_nothing_lost(conn: duckdb.DuckDBPyConnection) -> AssetCheckResult:
    lines, loaded, rejected = conn.execute(_TOTALS).fetchone()
    metadata: dict[str, Any] = {
        "lines": lines,
        "loaded": loaded,
        "rejected": rejected,
        "unaccounted": lines - loaded - rejected,
    }
    offending = [] if lines == loaded + rejected else files_that_do_not_add_up(conn)
    if offending:
        metadata["files_that_do_not_add_up"] = records_table(offending)
        metadata["files_that_do_not_add_up_count"] = len(offending)
    return AssetCheckResult(
        check_name=NOTHING_LOST.name,
        passed=not offending and lines == loaded + rejected,
        severity=AssetCheckSeverity.ERROR,
        metadata=metadata,
    )
