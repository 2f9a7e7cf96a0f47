"""Read whole tables for before/after comparisons in fault tests.

A table's content is its rows as a sorted list, without the audit column that says when a
row was merged (`merged_at`), which differs between two runs that write the same data.
"""

from pathlib import Path
from typing import Any

from orders_platform.resources.warehouse import connect_warehouse
from orders_platform_tests.harness import AUDIT_COLUMNS, table_rows

MARTS = ("fct_orders", "revenue_daily")


def table_contents(
    warehouse: Path, table: str, leave_out: tuple[str, ...] = AUDIT_COLUMNS
) -> list[tuple[Any, ...]]:
    """All rows of `table` except the `leave_out` columns, sorted, read-only."""
    with connect_warehouse(warehouse, read_only=True) as conn:
        return table_rows(conn, table, leave_out)


def marts_contents(
    warehouse: Path, leave_out: tuple[str, ...] = AUDIT_COLUMNS
) -> dict[str, list[tuple[Any, ...]]]:
    return {table: table_contents(warehouse, table, leave_out) for table in MARTS}
