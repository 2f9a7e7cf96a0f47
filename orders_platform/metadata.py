"""Small renderers for metadata that reads well in the Dagster UI.

Ingestion's check, the dbt step, the checks and the revision notice all render tables and
scalars for the UI the same way, so these sit below all of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from dagster import MetadataValue


def _cell(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown_table(rows: Sequence[Mapping[str, Any]], limit: int = 10) -> MetadataValue:
    """The first `limit` rows as a Markdown table (with a note when more were left out)."""
    if not rows:
        return MetadataValue.md("_no rows_")
    columns = list(rows[0])
    lines = [
        "| " + " | ".join(columns) + " |",
        "|" + "---|" * len(columns),
        *("| " + " | ".join(_cell(row[c]) for c in columns) + " |" for row in rows[:limit]),
    ]
    if len(rows) > limit:
        lines.append(f"\n_{len(rows) - limit} more row(s) not shown_")
    return MetadataValue.md("\n".join(lines))


def plain(value: Any) -> Any:
    """Metadata-friendly scalar: decimals as floats, dates as ISO strings."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value
