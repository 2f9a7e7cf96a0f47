"""Small renderers for metadata that reads well in the Dagster UI.

Ingestion's check, the dbt step, the checks and the revision notice all render tables and
scalars for the UI the same way, so these sit below all of them.

Rows of records (failing rows, files, schema changes, revisions) go out as Dagster's
`TableMetadataValue` with a typed `TableSchema`: the UI shows them as a table it can sort,
and readers (tests, alerts) get the records back as data instead of parsing Markdown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from dagster import MetadataValue, TableColumn, TableMetadataValue, TableRecord, TableSchema

# A table cell's type as the UI labels it, by the Python type of the first value in the column.
_COLUMN_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "bool"),  # before int: a bool is an int
    (int, "int"),
    (float | Decimal, "float"),
    (datetime, "timestamp"),  # before date: a datetime is a date
    (date, "date"),
)


def plain(value: Any) -> Any:
    """Metadata-friendly scalar: decimals as floats, dates as ISO strings."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _cell(value: Any) -> str | int | float | bool | None:
    """A value a `TableRecord` accepts: scalars as `plain`, anything else (a list of load ids,
    say) as its text."""
    value = plain(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value))
    return str(value)


def _column_type(rows: Sequence[Mapping[str, Any]], name: str) -> str:
    first = next((row[name] for row in rows if row.get(name) is not None), None)
    return next((label for kind, label in _COLUMN_TYPES if isinstance(first, kind)), "string")


def records_table(rows: Sequence[Mapping[str, Any]], limit: int = 10) -> TableMetadataValue:
    """The first `limit` rows as a table, columns named and typed after the first row.

    Every caller also records how many rows there are (a count beside the table), so rows
    past `limit` are counted, not shown: the table goes into every event that carries it.
    """
    shown = list(rows[:limit])
    names = list(shown[0]) if shown else []
    schema = TableSchema(columns=[TableColumn(name, _column_type(shown, name)) for name in names])
    records = [TableRecord({name: _cell(row.get(name)) for name in names}) for row in shown]
    return MetadataValue.table(records=records, schema=schema)
