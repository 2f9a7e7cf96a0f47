"""Where a heal's time goes, read back from the Dagster instance `dagster dev` writes.

Everything here is the instance's own record, not the benchmark's clock: sensor ticks
(when each evaluation started and ended, and what it launched), run records and run events
(created, launched by the queued-run coordinator, started in the run worker, ended),
backfills, the `landed_order_days` observations ingestion reports, and the `revenue_daily`
materializations and check evaluations of the heal run. Only the drop time comes from the
benchmark, which wrote the file.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from functools import cache
from statistics import median
from typing import Any

from dagster import (
    AssetKey,
    AssetRecordsFilter,
    DagsterEventType,
    DagsterInstance,
    DagsterRunStatus,
    RunsFilter,
)
from dagster._core.execution.backfill import BulkActionsFilter, BulkActionStatus
from dagster._core.scheduler.instigation import InstigatorTick, InstigatorType
from dagster._core.storage.dagster_run import RunRecord
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
    BACKFILL_ID_TAG,
    PARTITION_NAME_TAG,
    SCHEDULE_NAME_TAG,
    SENSOR_NAME_TAG,
)

from orders_platform.definitions import defs
from orders_platform.ingestion.landed_days import LANDED_ORDER_DAYS
from orders_platform.sensors.landing import landing_file_sensor
from orders_platform.sensors.late_data import late_data_remerge_sensor

REVENUE_DAILY = AssetKey("revenue_daily")
LANDING_SENSOR = landing_file_sensor.name
AUTOMATION_SENSOR = late_data_remerge_sensor.name

IN_PROGRESS = [
    DagsterRunStatus.QUEUED,
    DagsterRunStatus.NOT_STARTED,
    DagsterRunStatus.STARTING,
    DagsterRunStatus.STARTED,
    DagsterRunStatus.CANCELING,
]
# the queued-run coordinator hands a run to the launcher (STARTING), then its worker starts
_RUN_EVENTS = {DagsterEventType.RUN_STARTING, DagsterEventType.RUN_START}


class HealFailed(RuntimeError):
    """The heal ended without correct, checked revenue: what was seen is in the message."""


@dataclass(frozen=True)
class RunSpan:
    """One run's life, in epoch seconds (None: not reached)."""

    run_id: str
    job: str
    groups: str  # the asset groups it materializes ("marts", "history+lateness", ...)
    status: str
    launched_by: str
    backfill_id: str | None
    partitions: str
    created: float
    launched: float | None
    started: float | None
    ended: float | None

    def relative(self, origin: float) -> dict[str, Any]:
        """The span with its times in seconds after `origin`, rounded for a report."""
        return {
            **asdict(self),
            **{
                name: None if value is None else round(value - origin, 2)
                for name, value in asdict(self).items()
                if name in ("created", "launched", "started", "ended")
            },
        }


def _launched_by(tags: dict[str, str]) -> str:
    """What launched a run: a backfill's runs may carry the sensor that requested it too."""
    if BACKFILL_ID_TAG in tags:
        return f"backfill {tags[BACKFILL_ID_TAG]}"
    for tag, kind in ((SENSOR_NAME_TAG, "sensor"), (SCHEDULE_NAME_TAG, "schedule")):
        if tag in tags:
            return f"{kind} {tags[tag]}"
    return "launched by hand"


def _partitions(tags: dict[str, str]) -> str:
    if PARTITION_NAME_TAG in tags:
        return tags[PARTITION_NAME_TAG]
    if ASSET_PARTITION_RANGE_START_TAG in tags:
        return f"{tags[ASSET_PARTITION_RANGE_START_TAG]}..{tags[ASSET_PARTITION_RANGE_END_TAG]}"
    return ""


@cache
def _group_of() -> dict[AssetKey, str]:
    return {spec.key: spec.group_name or "default" for spec in defs.resolve_all_asset_specs()}


def _groups(asset_keys: Iterable[AssetKey] | None) -> str:
    return "+".join(sorted({_group_of().get(key, "?") for key in asset_keys or ()}))


def _span(instance: DagsterInstance, record: RunRecord) -> RunSpan:
    run = record.dagster_run
    stamps = {
        entry.dagster_event.event_type: entry.timestamp
        for entry in instance.all_logs(run.run_id, of_type=_RUN_EVENTS)
        if entry.dagster_event is not None
    }
    return RunSpan(
        run_id=run.run_id,
        job=run.job_name,
        groups=_groups(run.asset_selection),
        status=run.status.value,
        launched_by=_launched_by(dict(run.tags)),
        backfill_id=run.tags.get(BACKFILL_ID_TAG),
        partitions=_partitions(dict(run.tags)),
        created=record.create_timestamp.timestamp(),
        launched=stamps.get(DagsterEventType.RUN_STARTING),
        started=stamps.get(DagsterEventType.RUN_START, record.start_time),
        ended=record.end_time,
    )


def run_span(instance: DagsterInstance, run_id: str) -> RunSpan:
    (record,) = instance.get_run_records(RunsFilter(run_ids=[run_id]))
    return _span(instance, record)


def runs_between(instance: DagsterInstance, since: float, until: float) -> list[RunSpan]:
    """Every run alive at some moment in [since, until], in the order they were created."""
    records = instance.get_run_records(
        RunsFilter(updated_after=datetime.fromtimestamp(since, UTC)), ascending=True
    )
    spans = [_span(instance, record) for record in records]
    return [
        span
        for span in sorted(spans, key=lambda s: s.created)
        if span.created <= until and (span.ended is None or span.ended >= since)
    ]


def busy(instance: DagsterInstance) -> bool:
    """Is any run queued or running, or any backfill still launching runs?"""
    if instance.get_run_records(RunsFilter(statuses=IN_PROGRESS), limit=1):
        return True
    requested = BulkActionsFilter(statuses=[BulkActionStatus.REQUESTED])
    return bool(instance.get_backfills(filters=requested, limit=1))


class SensorTicks:
    """The ticks of the platform's sensors, by sensor name."""

    def __init__(self, instance: DagsterInstance) -> None:
        self._instance = instance

    def ticks(self, sensor: str, after: float) -> list[InstigatorTick]:
        """The sensor's ticks that started after `after`, oldest first ([] before its first)."""
        for state in self._instance.all_instigator_state(instigator_type=InstigatorType.SENSOR):
            if state.name == sensor:
                ticks = self._instance.get_ticks(
                    state.instigator_origin_id, state.selector_id, after=after
                )
                return sorted(ticks, key=lambda tick: tick.timestamp)
        return []

    def finished_tick(self, sensor: str, after: float) -> InstigatorTick | None:
        """The latest of the sensor's ticks that started after `after` and has ended."""
        ended = [tick for tick in self.ticks(sensor, after) if tick.end_timestamp is not None]
        return ended[-1] if ended else None

    def launcher(self, sensor: str, after: float, launched: str) -> InstigatorTick | None:
        """The tick of `sensor` that launched run or backfill `launched`."""
        for tick in self.ticks(sensor, after):
            if launched in tick.run_ids:
                return tick
        return None

    def cost(self, sensor: str, since: float, until: float) -> dict[str, float]:
        """How many ticks the sensor had in [since, until] and their median evaluation time."""
        durations = [
            tick.end_timestamp - tick.timestamp
            for tick in self.ticks(sensor, since)
            if tick.end_timestamp is not None and tick.timestamp <= until
        ]
        return {
            "ticks": len(durations),
            "median_seconds": round(median(durations), 3) if durations else 0.0,
        }


def latest_materialization(
    instance: DagsterInstance, day: date, after: float
) -> tuple[str, float] | None:
    """(run id, time) of the day's newest revenue_daily materialization after `after`."""
    records = instance.fetch_materializations(
        AssetRecordsFilter(
            REVENUE_DAILY, asset_partitions=[day.isoformat()], after_timestamp=after
        ),
        limit=1,
    ).records
    return (records[0].run_id, records[0].timestamp) if records else None


def last_observed(instance: DagsterInstance, days: Iterable[date], after: float) -> float | None:
    """When ingestion reported the last of `days` on landed_order_days after `after`."""
    stamps = []
    for day in days:
        records = instance.fetch_observations(
            AssetRecordsFilter(
                AssetKey(LANDED_ORDER_DAYS),
                asset_partitions=[day.isoformat()],
                after_timestamp=after,
            ),
            limit=1,
        ).records
        if not records:
            return None
        stamps.append(records[0].timestamp)
    return max(stamps)


def checks_passed(instance: DagsterInstance, run_id: str, days: Sequence[date]) -> float:
    """When the last of revenue_daily's checks in `run_id` passed for `days`.

    Every check of revenue_daily the run executed must have passed for each day (a per-day
    dbt test for the day, or an unpartitioned check); HealFailed says which did not.
    """
    run = instance.get_run_by_id(run_id)
    selected = {
        key.name for key in (run.asset_check_selection or ()) if key.asset_key == REVENUE_DAILY
    }
    evaluations = [
        (entry.timestamp, entry.dagster_event.event_specific_data)
        for entry in instance.all_logs(run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION)
        if entry.dagster_event is not None
    ]
    mine = [
        (at, evaluation)
        for at, evaluation in evaluations
        if evaluation.asset_key == REVENUE_DAILY
        and evaluation.partition in {None, *(day.isoformat() for day in days)}
    ]
    problems = [f"{e.check_name} [{e.partition or 'all'}] failed" for _, e in mine if not e.passed]
    for day in days:
        seen = {e.check_name for _, e in mine if e.partition in (None, day.isoformat())}
        problems += [f"{name} [{day}] not evaluated" for name in sorted(selected - seen)]
    if not mine:
        problems.append("no check of revenue_daily was evaluated")
    if problems:
        raise HealFailed(f"heal run {run_id}: " + "; ".join(problems))
    return max(at for at, _ in mine)


@dataclass(frozen=True)
class Phase:
    """One step from the drop to the corrected, checked revenue, in epoch seconds."""

    label: str
    start: float
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start


def _at(span: RunSpan, stamp: str) -> float:
    value = getattr(span, stamp)
    if value is None:
        raise HealFailed(f"run {span.run_id} ({span.job}) has no {stamp} time")
    return value


def _run_phases(name: str, span: RunSpan) -> list[Phase]:
    """Queued until the coordinator launched it, then launched until its worker started."""
    return [
        Phase(f"{name} run queued -> launched (run queue)", span.created, _at(span, "launched")),
        Phase(
            f"{name} run launched -> started (run worker)",
            _at(span, "launched"),
            _at(span, "started"),
        ),
    ]


@dataclass(frozen=True)
class Heal:
    """What the instance recorded for one late file: the runs, ticks and milestones."""

    dropped: float
    landing_tick: InstigatorTick | None
    ingestion: RunSpan
    observed: float
    automation_tick: InstigatorTick | None
    backfill_created: float | None
    heal: RunSpan
    materialized: float
    checked: float

    @property
    def ended(self) -> float:
        """When the heal run ended."""
        return _at(self.heal, "ended")

    def phases(self) -> list[Phase]:
        """The steps in the order they happen; a step may overlap the one before (the heal
        is requested while ingestion still refreshes the staging view)."""
        ingestion, heal = self.ingestion, self.heal
        # The sensors' ticks are reported apart (`landing_tick`, `automation_tick`): a tick
        # that started a moment before the drop may still list the file, so "drop -> tick"
        # could run backwards and is not a step of its own.
        steps = [
            Phase("drop -> ingestion run queued (landing sensor)", self.dropped, ingestion.created)
        ]
        steps += _run_phases("ingestion", ingestion)
        steps.append(
            Phase(
                "ingestion run started -> finished",
                _at(ingestion, "started"),
                _at(ingestion, "ended"),
            )
        )
        if self.backfill_created is None:
            steps.append(
                Phase(
                    "late days observed -> heal run queued (automation sensor)",
                    self.observed,
                    heal.created,
                )
            )
        else:
            steps += [
                Phase(
                    "late days observed -> backfill requested (automation sensor)",
                    self.observed,
                    self.backfill_created,
                ),
                Phase(
                    "backfill requested -> heal run queued (backfill daemon)",
                    self.backfill_created,
                    heal.created,
                ),
            ]
        steps += _run_phases("heal", heal)
        steps += [
            Phase(
                "heal run started -> revenue_daily materialized",
                _at(heal, "started"),
                self.materialized,
            ),
            Phase("revenue_daily materialized -> checks passed", self.materialized, self.checked),
            Phase("checks passed -> heal run finished", self.checked, self.ended),
        ]
        return steps

    def totals(self) -> list[Phase]:
        """From the drop to each of the three ends the issue names."""
        return [
            Phase("drop -> revenue_daily corrected", self.dropped, self.materialized),
            Phase("drop -> checks passed", self.dropped, self.checked),
            Phase("drop -> heal run finished", self.dropped, self.ended),
        ]
