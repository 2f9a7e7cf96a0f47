"""Read whole tables for before/after comparisons in fault tests.

A table's content is its rows as a sorted list, without the audit column that says when a
row was merged (`merged_at`), which differs between two runs that write the same data.
"""

from pathlib import Path
from typing import Any

from orders_platform.resources.warehouse import connect_warehouse
from orders_platform_tests.harness import AUDIT_COLUMNS

MARTS = ("fct_orders", "revenue_daily")


def table_contents(
    warehouse: Path, table: str, leave_out: tuple[str, ...] = AUDIT_COLUMNS
) -> list[tuple[Any, ...]]:
    """All rows of `table` except the `leave_out` columns, sorted, read-only."""
    with connect_warehouse(warehouse, read_only=True) as conn:
        columns = [
            name
            for (name,) in conn.execute(
                "select column_name from information_schema.columns "
                "where table_name = ? order by ordinal_position",
                [table],
            ).fetchall()
            if name not in leave_out
        ]
        return conn.execute(f"select {', '.join(columns)} from {table} order by all").fetchall()


def marts_contents(
    warehouse: Path, leave_out: tuple[str, ...] = AUDIT_COLUMNS
) -> dict[str, list[tuple[Any, ...]]]:
    return {table: table_contents(warehouse, table, leave_out) for table in MARTS}
