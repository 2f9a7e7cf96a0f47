"""What an alert says: one message per incident (a run), naming each failed check's asset,
check and partitions, with a link to the run in the Dagster UI.

A 14-day re-merge that fails reconciliation on five days records five failed evaluations of
one check; people need one message that says "these days of this check", not five. So
everything here works on one finished run at a time: its check evaluations are read back
from the instance once the run is over, grouped by asset and check, and their partitions
compressed into ranges.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from dagster import (
    AssetCheckEvaluation,
    AssetCheckSeverity,
    DagsterEventType,
    DagsterInstance,
    DagsterRun,
)

# Run tags Dagster sets on a partitioned run: one partition, or a single-run range.
PARTITION_TAG = "dagster/partition"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
# A message names this many partition ranges of a check at most, then counts the rest.
MAX_RANGES = 10
# Evaluations read from the instance per request.
PAGE_SIZE = 1000
# An error is quoted up to this many characters (its first line only).
MAX_ERROR_CHARS = 300


@dataclass(frozen=True)
class FailedCheck:
    asset: str
    check: str
    partitions: tuple[str, ...]


def _partition_of(evaluation: AssetCheckEvaluation) -> str | None:
    """The partition an evaluation judged: its own, or, for a check of a whole asset that
    judges one partition (the freshness deadline), the `partition` it names in its metadata."""
    if evaluation.partition is not None:
        return evaluation.partition
    named = evaluation.metadata.get("partition")
    return str(named.value) if named is not None else None


def failed_error_checks(instance: DagsterInstance, run_id: str) -> list[FailedCheck]:
    """The ERROR-severity checks that failed in run `run_id`, with their failing partitions.

    A (check, partition) evaluated more than once in the run counts by its last evaluation.
    """
    latest: dict[tuple[str, str, str | None], AssetCheckEvaluation] = {}
    cursor = None
    while True:
        page = instance.get_records_for_run(
            run_id,
            cursor=cursor,
            of_type=DagsterEventType.ASSET_CHECK_EVALUATION,
            limit=PAGE_SIZE,
        )
        for record in page.records:
            evaluation = record.event_log_entry.dagster_event.event_specific_data
            key = (evaluation.asset_key.to_user_string(), evaluation.check_name)
            latest[(*key, _partition_of(evaluation))] = evaluation
        if not page.has_more:
            break
        cursor = page.cursor
    failed: dict[tuple[str, str], list[str]] = {}
    for (asset, check, partition), evaluation in latest.items():
        if not evaluation.passed and evaluation.severity == AssetCheckSeverity.ERROR:
            failed.setdefault((asset, check), []).extend([partition] if partition else [])
    return [
        FailedCheck(asset, check, tuple(sorted(partitions)))
        for (asset, check), partitions in sorted(failed.items())
    ]


def _day(key: str) -> date | None:
    try:
        return date.fromisoformat(key)
    except ValueError:
        return None


def partition_ranges(keys: Iterable[str]) -> str:
    """Partition keys as few ranges: consecutive days as `first..last`, others as they are;
    past `MAX_RANGES` ranges, a count of the rest."""
    ranges: list[list[str]] = []
    previous: date | None = None
    for key in sorted(set(keys)):
        day = _day(key)
        if day is not None and previous is not None and day == previous + timedelta(days=1):
            ranges[-1][1] = key
        else:
            ranges.append([key, key])
        previous = day
    shown = [first if first == last else f"{first}..{last}" for first, last in ranges]
    if len(shown) > MAX_RANGES:
        shown = [*shown[:MAX_RANGES], f"and {len(shown) - MAX_RANGES} more ranges"]
    return ", ".join(shown)


def run_partitions(run: DagsterRun) -> str | None:
    """The partition or range a run was launched for, as its tags say."""
    tags = run.tags
    if RANGE_START_TAG in tags and RANGE_END_TAG in tags:
        first, last = tags[RANGE_START_TAG], tags[RANGE_END_TAG]
        return first if first == last else f"{first}..{last}"
    return tags.get(PARTITION_TAG)


def run_url(ui_url: str, run_id: str) -> str:
    return f"{ui_url}/runs/{run_id}"


def _headline(kind: str, run: DagsterRun) -> str:
    partitions = run_partitions(run)
    return f"{kind}: job {run.job_name}" + (f", partitions {partitions}" if partitions else "")


def _check_lines(checks: list[FailedCheck]) -> list[str]:
    return [
        f"• {c.asset} · {c.check}"
        + (f": partitions {partition_ranges(c.partitions)}" if c.partitions else "")
        for c in checks
    ]


def first_line(error: str) -> str:
    line = error.strip().splitlines()[0] if error.strip() else ""
    return line if len(line) <= MAX_ERROR_CHARS else line[: MAX_ERROR_CHARS - 1] + "…"


def run_failure_message(run: DagsterRun, error: str, checks: list[FailedCheck], ui_url: str) -> str:
    """The alert for a failed run: what failed, the checks it failed, and where to look."""
    lines = [f":red_circle: {_headline('Run failed', run)}"]
    if checks:
        lines += ["Failed checks (severity ERROR):", *_check_lines(checks)]
    if error:
        lines.append(f"Error: {first_line(error)}")
    lines.append(f"Run: {run_url(ui_url, run.run_id)}")
    return "\n".join(lines)


def failed_checks_message(run: DagsterRun, checks: list[FailedCheck], ui_url: str) -> str:
    """The alert for a run that succeeded, yet in which ERROR-severity checks failed."""
    return "\n".join(
        [
            f":warning: {_headline('Checks failed (severity ERROR)', run)}",
            *_check_lines(checks),
            f"Run: {run_url(ui_url, run.run_id)}",
        ]
    )
