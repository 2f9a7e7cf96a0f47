"""When the marts ask to be re-merged: their automation condition.

It sits beside the translator that applies it to every mart, because it is a property of
those assets; `orders_platform.sensors.late_data` only evaluates it.

`eager()` spelled out, with changes for the staging views, which are re-created by every
ingestion run and hold no data of their own:
- it reaches every partition (eager() only looks at the latest time window, and late data
  is about the others);
- a re-created view is not an update;
- a view being re-created does not hold the marts back. Ingestion reports a late day as soon
  as its rows commit, while its run is still refreshing stg_orders. Waiting on that would
  request revenue_daily (which depends on the day directly) without fct_orders, and that run
  fails reconciliation, as it must. Requested together, the marts queue behind the
  ingestion run in the writer pool and run as one backfill once it is done.
"""

from dagster import AssetSelection, AutomationCondition

_STAGING = AssetSelection.groups("staging")

EAGER_FOR_EVERY_PARTITION = (
    (
        AutomationCondition.newly_missing()
        | AutomationCondition.any_deps_updated().ignore(_STAGING)
    ).since_last_handled()
    & ~AutomationCondition.any_deps_missing()
    & ~AutomationCondition.any_deps_in_progress().ignore(_STAGING)
    & ~AutomationCondition.in_progress()
).with_label("eager, every partition, landing-driven")
