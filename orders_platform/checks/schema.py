"""Schema changes: a mart's actual columns compared with those of its previous run.

Dagster's built-in column-schema check compares the last two materialization events, which
in a single-run backfill both belong to the same run; this one compares with the latest
materialization from an earlier run, using the actual table schema the dbt step records.
"""

from collections.abc import Sequence
from typing import Any

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetKey,
    DagsterInstance,
    TableSchema,
    asset_check,
)

from orders_platform.metadata import records_table

_SCHEMA_KEY = "dagster/column_schema"
_LOOKBACK = 1000


def schema_diff(previous: TableSchema, current: TableSchema) -> list[dict[str, Any]]:
    """Columns added, removed or retyped between two schemas."""
    before = {c.name: c.type for c in previous.columns}
    after = {c.name: c.type for c in current.columns}
    changes = []
    for name in sorted(before.keys() | after.keys()):
        if name not in before:
            changes.append({"column": name, "change": "added", "before": "", "after": after[name]})
        elif name not in after:
            changes.append(
                {"column": name, "change": "removed", "before": before[name], "after": ""}
            )
        elif before[name] != after[name]:
            changes.append(
                {
                    "column": name,
                    "change": "type changed",
                    "before": before[name],
                    "after": after[name],
                }
            )
    return changes


def schemas_of_last_two_runs(
    instance: DagsterInstance, asset_key: AssetKey
) -> tuple[TableSchema | None, TableSchema | None]:
    """Schemas recorded by the run before the latest one and by the latest one, in that order."""
    records = instance.fetch_materializations(asset_key, limit=_LOOKBACK).records
    schemas: list[TableSchema] = []
    run_ids: list[str] = []
    for record in records:
        metadata = record.asset_materialization.metadata if record.asset_materialization else {}
        if _SCHEMA_KEY not in metadata or record.run_id in run_ids:
            continue
        run_ids.append(record.run_id)
        schemas.append(metadata[_SCHEMA_KEY].value)
        if len(schemas) == 2:
            break
    current = schemas[0] if schemas else None
    previous = schemas[1] if len(schemas) > 1 else None
    return previous, current


def build_schema_change_checks(asset_keys: Sequence[AssetKey]) -> list[AssetChecksDefinition]:
    def build(asset_key: AssetKey) -> AssetChecksDefinition:
        @asset_check(
            asset=asset_key,
            name="column_schema_unchanged",
            description="Reports columns added, removed or retyped since the previous run.",
        )
        def column_schema_unchanged(context: AssetCheckExecutionContext) -> AssetCheckResult:
            previous, current = schemas_of_last_two_runs(context.instance, asset_key)
            if previous is None or current is None:
                return AssetCheckResult(
                    passed=True, metadata={"status": "no earlier run to compare"}
                )
            changes = schema_diff(previous, current)
            return AssetCheckResult(
                passed=not changes,
                severity=AssetCheckSeverity.WARN,
                metadata={"changes": len(changes)}
                | ({"diff": records_table(changes, limit=50)} if changes else {}),
            )

        return column_schema_unchanged

    return [build(key) for key in asset_keys]
