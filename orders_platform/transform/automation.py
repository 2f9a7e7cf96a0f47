"""When the marts ask to be re-merged, and the reports after them: their automation conditions.

They sit beside the translator that applies them, because they are a property of those
assets; `orders_platform.sensors.late_data` only evaluates them.

`eager()` spelled out, with changes for late data and for the staging views, which are
re-created by every ingestion run and hold no data of their own:
- it reaches every partition (eager() only looks at the latest time window, and late data
  is about the others);
- the days one evaluation finds stale are requested with the days between them, so they are
  re-merged by one run: a backfill runs one run per contiguous range, each queued behind the
  writer pool, and every run pays dbt's and Dagster's fixed cost again. Days further apart
  than `HEAL_SPAN_DAYS` are split into spans of at most that many days, so a late event for
  a day months old does not re-merge every day since. A day between is re-merged even if
  no load has reported it on `landed_order_days` (history loaded before versions were
  reported): re-merging it is as safe as re-merging its neighbours;
- a re-created view is not an update;
- a view being re-created does not hold the marts back. Ingestion reports a late day as soon
  as its rows commit, while its run is still refreshing stg_orders. Waiting on that would
  request revenue_daily (which depends on the day directly) without fct_orders, and that run
  fails reconciliation, as it must. Requested together, the marts queue behind the
  ingestion run in the writer pool and run as one backfill once it is done.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from dagster import (
    AssetKey,
    AssetSelection,
    AutomationCondition,
    AutomationContext,
    AutomationResult,
    PartitionKeyRange,
)

from orders_platform.partitions import REMERGE_DAYS
from orders_platform.transform.groups import STAGING

_STAGING = AssetSelection.groups(STAGING)

# The widest span of days one heal run re-merges: twice the nightly re-merge, which the bench
# measures. Re-merging a day that did not change costs less than a run of its own.
HEAL_SPAN_DAYS = 2 * REMERGE_DAYS


def heal_spans(days: Iterable[date], max_days: int = HEAL_SPAN_DAYS) -> list[tuple[date, date]]:
    """The days as few spans as possible, left to right, none longer than `max_days` days."""
    spans: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if spans and (day - spans[-1][0]).days < max_days:
            spans[-1] = (spans[-1][0], day)
        else:
            spans.append((day, day))
    return spans


class WithDaysBetween(AutomationCondition[AssetKey]):
    """True for the days its operand is true for and for the days between them
    (`heal_spans`), so they are requested as contiguous ranges."""

    def __init__(self, operand: AutomationCondition[AssetKey], max_days: int) -> None:
        self.operand = operand
        self.max_days = max_days

    @property
    def name(self) -> str:
        return "WITH_DAYS_BETWEEN"

    @property
    def description(self) -> str:
        return f"and the days between them, in spans of at most {self.max_days} days"

    @property
    def children(self) -> Sequence[AutomationCondition[AssetKey]]:
        return [self.operand]

    async def evaluate(  # type: ignore[override]
        self, context: AutomationContext[AssetKey]
    ) -> AutomationResult[AssetKey]:
        child = await context.for_child_condition(
            self.operand, child_indices=[0], candidate_subset=context.candidate_subset
        ).evaluate_async()
        subset = child.true_subset
        if context.partitions_def is not None and not subset.is_empty:
            days = (date.fromisoformat(key) for key in subset.expensively_compute_partition_keys())
            for first, last in heal_spans(days, self.max_days):
                span = PartitionKeyRange(first.isoformat(), last.isoformat())
                subset = subset.compute_union(
                    context.asset_graph_view.get_entity_subset_in_range(context.key, span)
                )
        return AutomationResult(
            context=context,
            true_subset=context.candidate_subset.compute_intersection(subset),
            child_results=[child],
        )


def _every_partition(
    updated: AutomationCondition[AssetKey], label: str
) -> AutomationCondition[AssetKey]:
    return (
        WithDaysBetween(
            (AutomationCondition.newly_missing() | updated).since_last_handled()
            & ~AutomationCondition.any_deps_missing(),
            HEAL_SPAN_DAYS,
        )
        & ~AutomationCondition.any_deps_in_progress().ignore(_STAGING)
        & ~AutomationCondition.in_progress()
    ).with_label(label)


EAGER_FOR_EVERY_PARTITION = _every_partition(
    AutomationCondition.any_deps_updated().ignore(_STAGING),
    "eager, every partition, landing-driven, stale days healed together",
)


def after_the_marts(followers: AssetSelection) -> AutomationCondition[AssetKey]:
    """For the reports that read the marts: like the marts' condition, but requested only
    once a mart has been updated, never with it, so a re-merge and its checks never wait
    for them. Requests among the `followers` still join, so the reports run as one run."""
    updated = (
        AutomationCondition.any_deps_match(
            AutomationCondition.newly_updated() & ~AutomationCondition.executed_with_root_target()
        ).ignore(_STAGING)
        | AutomationCondition.any_deps_match(AutomationCondition.will_be_requested()).allow(
            followers
        )
    ).with_label("a mart updated, or another report requested")
    return _every_partition(updated, "after the marts, every partition, in runs of their own")
