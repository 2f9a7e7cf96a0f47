"""Small renderers for metadata that reads well in the Dagster UI.

Ingestion's check, the dbt step, the checks and the revision notice all render tables and
scalars for the UI the same way, so these sit below all of them.

Tables go through a pandas DataFrame. pandas is imported when a table is rendered, not when
this module is: every process that loads the code location imports this module, and
importing pandas (and numpy) there would add about a second to each, while a table is
rendered only when there is something to show (a failing check, a schema change, a revision).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from dagster import MetadataValue

if TYPE_CHECKING:
    import pandas as pd


def _cell(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).replace("|", "\\|").replace("\n", " ")


def _frame_markdown(frame: pd.DataFrame) -> str:
    """A DataFrame as a Markdown table. `DataFrame.to_markdown` needs `tabulate`, which the
    platform does not install for these few lines."""
    cells = frame.map(_cell)
    return "\n".join(
        [
            "| " + " | ".join(map(str, frame.columns)) + " |",
            "|" + "---|" * len(frame.columns),
            *("| " + " | ".join(row) + " |" for row in cells.itertuples(index=False, name=None)),
        ]
    )


def markdown_table(rows: Sequence[Mapping[str, Any]], limit: int = 10) -> MetadataValue:
    """The first `limit` rows as a Markdown table (with a note when more were left out).

    Columns are those of the first row. Values keep their Python types (`dtype=object`): left
    to infer, pandas would show an integer column with a missing value as floats and a
    missing time as `NaT`.
    """
    if not rows:
        return MetadataValue.md("_no rows_")
    import pandas as pd

    frame = pd.DataFrame(list(rows), columns=list(rows[0]), dtype=object)
    markdown = _frame_markdown(frame.head(limit))
    if len(frame) > limit:
        markdown += f"\n\n_{len(frame) - limit} more row(s) not shown_"
    return MetadataValue.md(markdown)


def plain(value: Any) -> Any:
    """Metadata-friendly scalar: decimals as floats, dates as ISO strings."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value
