"""Publish a finished dbt invocation to Dagster: per-partition checks, actual table schemas.

This is how dbt's events become the dbt asset's Dagster events, so it lives in transform,
beside the asset that yields them; `orders_platform.checks` holds the checks defined apart
from dbt. It knows no model: a caller that wants more metadata on a model's
materialization passes a function for it (`model_metadata`, by table name).

Why this exists: in a single-run backfill over many days, dbt runs each test once and
dagster-dbt records its result with `partition=None`, so the UI could not say *which days*
reconcile. We therefore re-emit every dbt test result as one `AssetCheckEvaluation` per
partition key (the supported way to attach a partition to a check result from inside a
multi-asset step). A test whose stored failures carry an `order_date` column (the
reconciliation tests) fails exactly the partitions of those days (even days outside the
run's window, e.g. a day a re-dated order left); any other failing test (uniqueness over
the whole table, say) fails every partition of the run. A whole-table verdict is repeated
for each day on purpose: Dagster plans a check of a partitioned asset once per partition of
the run, and a day whose planned check got no evaluation of its own shows it as skipped.

This runs after the dbt process has exited, so reading the failure tables and the table
schemas never contends with dbt for the DuckDB file lock.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import duckdb
from dagster import (
    AssetCheckEvaluation,
    AssetCheckKey,
    AssetCheckResult,
    AssetExecutionContext,
    AssetKey,
    AssetRecordsFilter,
    DagsterInstance,
    DataVersion,
    Output,
    TableColumn,
    TableSchema,
)

from orders_platform.dagster_internals import AssetCheckEvaluationTargetMaterializationData
from orders_platform.metadata import markdown_table, plain

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MAX_FAILURE_ROWS = 1000

# Extra materialization metadata for one model, read once dbt has exited.
ModelMetadata = Callable[[duckdb.DuckDBPyConnection], Mapping[str, Any]]
# The materialization a day's check result is about, by partition key (None: none yet).
TargetFor = Callable[[str], AssetCheckEvaluationTargetMaterializationData | None]


def _quoted(*parts: str) -> str:
    for part in parts:
        if not _IDENTIFIER.match(part):
            raise ValueError(f"unexpected identifier from the dbt manifest: {part!r}")
    return ".".join(f'"{part}"' for part in parts)


def stored_failures(
    conn: duckdb.DuckDBPyConnection, test_node: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The failing rows dbt stored for a test (`store_failures`), or [] if none were kept."""
    table = _quoted(test_node["schema"], test_node["alias"])
    try:
        cursor = conn.execute(f"select * from {table} limit {_MAX_FAILURE_ROWS}")  # noqa: S608
    except duckdb.CatalogException:
        return []
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _day_metadata(row: Mapping[str, Any]) -> dict[str, Any]:
    return {name: plain(value) for name, value in row.items() if name != "order_date"} | {
        "failing_day": markdown_table([row])
    }


def _node(manifest: Mapping[str, Any], event: Output | AssetCheckResult) -> Mapping[str, Any]:
    unique_id = event.metadata["unique_id"]
    return manifest["nodes"][getattr(unique_id, "value", unique_id)]


def _view_data_version(node: Mapping[str, Any]) -> DataVersion | None:
    """A view holds no data: what it yields is defined by its SQL, so its data version is the
    SQL's checksum. Re-creating an unchanged view then marks nothing downstream stale."""
    if node["config"]["materialized"] != "view":
        return None
    return DataVersion(node["checksum"]["checksum"])


def per_partition_evaluations(
    result: AssetCheckResult,
    partition_keys: Sequence[str],
    failures: Sequence[Mapping[str, Any]],
    *,
    blocking: bool,
    target_for: TargetFor = lambda _: None,
) -> Iterator[AssetCheckEvaluation]:
    """One evaluation per partition for a dbt test result that covered a whole window.

    Each names the materialization of its day it checked (`target_for`): Dagster shows a
    day's check status on the partition view only while it is about the day's latest
    materialization, so a re-merge that has not been checked again shows no stale verdict.
    """
    base_metadata = {k: v for k, v in result.metadata.items() if not k.startswith("dagster/")}

    def evaluation(
        partition: str, passed: bool, metadata: Mapping[str, Any]
    ) -> AssetCheckEvaluation:
        return AssetCheckEvaluation(
            asset_key=result.asset_key,
            check_name=result.check_name,
            passed=passed,
            metadata={**base_metadata, **metadata},
            severity=result.severity,
            blocking=blocking,
            partition=partition,
            target_materialization_data=target_for(partition),
        )

    failing_days = {
        plain(row["order_date"]): row for row in failures if row.get("order_date") is not None
    }
    if result.passed or not failing_days:
        extra = {} if result.passed else {"failures": markdown_table(list(failures))}
        for key in partition_keys:
            yield evaluation(key, result.passed, extra)
        return
    for key in partition_keys:
        row = failing_days.get(key)
        yield evaluation(key, row is None, {} if row is None else _day_metadata(row))
    for key in sorted(set(failing_days) - set(partition_keys)):
        yield evaluation(key, False, _day_metadata(failing_days[key]))


def latest_materializations(
    instance: DagsterInstance, asset_key: AssetKey, partition_keys: Sequence[str]
) -> TargetFor:
    """The latest materialization of each of `partition_keys` of `asset_key`, read in one
    pass over the asset's newest materializations (the run's own, as a rule); a day asked
    for outside `partition_keys` (a day a re-dated order left) is looked up on its own."""
    found: dict[str, AssetCheckEvaluationTargetMaterializationData | None] = {}

    def target(record: Any) -> AssetCheckEvaluationTargetMaterializationData:
        return AssetCheckEvaluationTargetMaterializationData(
            storage_id=record.storage_id,
            run_id=record.event_log_entry.run_id,
            timestamp=record.timestamp,
        )

    def fetch(partitions: Sequence[str]) -> None:
        wanted, cursor = set(partitions), None
        while wanted:
            page = instance.fetch_materializations(
                AssetRecordsFilter(asset_key=asset_key, asset_partitions=list(partitions)),
                limit=max(len(partitions), 100),
                cursor=cursor,
            )
            for record in page.records:  # newest first
                if record.partition_key in wanted:
                    found[record.partition_key] = target(record)
                    wanted.discard(record.partition_key)
            if not page.has_more:
                break
            cursor = page.cursor
        found.update(dict.fromkeys(wanted))

    fetch(partition_keys)

    def target_for(partition: str) -> AssetCheckEvaluationTargetMaterializationData | None:
        if partition not in found:
            fetch([partition])
        return found[partition]

    return target_for


def actual_table_schema(conn: duckdb.DuckDBPyConnection, table: str) -> TableSchema:
    """Column names and types as the warehouse has them (not as the YAML declares them)."""
    rows = conn.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = current_schema() and table_name = ? order by ordinal_position",
        [table],
    ).fetchall()
    return TableSchema(columns=[TableColumn(name, data_type.lower()) for name, data_type in rows])


def publish(
    events: Iterable[Any],
    *,
    context: AssetExecutionContext,
    manifest: Mapping[str, Any],
    conn: duckdb.DuckDBPyConnection,
    partition_keys: Sequence[str],
    model_metadata: Mapping[str, ModelMetadata],
) -> Iterator[Any]:
    """Yield a finished dbt invocation's events, enriched as described in the module doc."""
    targets: dict[AssetKey, TargetFor] = {}
    for event in events:
        if isinstance(event, Output):
            table = context.assets_def.keys_by_output_name[event.output_name].path[-1]
            node = _node(manifest, event)
            extra = model_metadata.get(table)
            yield Output(
                value=event.value,
                output_name=event.output_name,
                metadata={
                    **event.metadata,
                    "dagster/column_schema": actual_table_schema(conn, table),
                    **(extra(conn) if extra else {}),
                },
                data_version=_view_data_version(node),
                tags=event.tags,
            )
        elif isinstance(event, AssetCheckResult) and partition_keys:
            node = _node(manifest, event)
            spec = context.assets_def.get_spec_for_check_key(
                AssetCheckKey(event.asset_key, event.check_name)
            )
            failures = [] if event.passed else stored_failures(conn, node)
            if event.asset_key not in targets:
                targets[event.asset_key] = latest_materializations(
                    context.instance, event.asset_key, partition_keys
                )
            yield from per_partition_evaluations(
                event,
                partition_keys,
                failures,
                blocking=spec.blocking,
                target_for=targets[event.asset_key],
            )
        else:
            yield event


def failure_summary(run_results: Mapping[str, Any]) -> str:
    """What went wrong in a dbt invocation, and what dbt did not build because of it."""
    failed = [r for r in run_results["results"] if r["status"] in ("fail", "error")]
    skipped = [r for r in run_results["results"] if r["status"] == "skipped"]
    lines = [
        f"- {r['unique_id'].split('.')[2]}: {r['status']}"
        + (f" ({r['failures']} failing row(s))" if r.get("failures") else "")
        for r in failed
    ]
    skipped_models = [
        r["unique_id"].split(".")[2] for r in skipped if r["unique_id"].startswith("model.")
    ]
    if skipped_models:
        lines.append(
            "Not materialized, to keep bad data from flowing downstream: "
            + ", ".join(skipped_models)
        )
    command = run_results.get("args", {}).get("which", "build")
    return f"dbt {command} failed:\n" + "\n".join(lines)
