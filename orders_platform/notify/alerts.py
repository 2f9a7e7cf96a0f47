"""Alerts: tell people when a run fails or an ERROR-severity check fails, once per run.

Two run-status sensors watch every job of this code location, so every run is told about
exactly once, when it is over, with all its failed checks:
- `run_failure_alert`: a run failed (a re-merge, an ingestion, a checks run that a failing
  dbt test of severity ERROR, such as `reconciles_with_landing`, makes fail). Its message
  names the failed checks of the run too, so a failed run is one message, not two.
- `failed_check_alert`: a run succeeded, yet ERROR-severity checks in it failed (a check that
  does not fail its run, such as `yesterday_materialized_by_deadline`).

Why run-status sensors rather than a tail of ASSET_CHECK_EVALUATION events: a range run
records its per-partition evaluations over its whole duration, so a tail would either split
one run's failures across ticks (several messages for one incident) or have to hold its
cursor behind a run still going. Reading a run's evaluations once it has finished gives one
message with every failing partition, through public instance APIs only. The cursor (the
storage id of the last run-status event handled) is Dagster's own: a run is handled once,
and the cursor moves past it whatever the webhook does. `WebhookResource.post` never raises
and bounds its retries, so a webhook that is down costs a tick a logged warning, never the
sensor. A first tick starts from the latest run: turning alerts on does not replay history.
"""

from __future__ import annotations

from dagster import (
    DagsterRunStatus,
    DefaultSensorStatus,
    RunFailureSensorContext,
    RunStatusSensorContext,
    run_failure_sensor,
    run_status_sensor,
)

from orders_platform import settings
from orders_platform.notify.incidents import (
    failed_checks_message,
    failed_error_checks,
    run_failure_message,
)
from orders_platform.notify.webhook import WebhookResource


def _deliver(context: RunStatusSensorContext, webhook: WebhookResource, text: str) -> None:
    delivery = webhook.post(text)
    log = context.log.info if delivery.delivered else context.log.warning
    log(f"alert for run {context.dagster_run.run_id}: {delivery.detail}")


def _root_error(context: RunFailureSensorContext) -> str:
    """What the first failed step raised (Dagster wraps it: its innermost cause), else the
    run's failure message."""
    for event in context.get_step_failure_events():
        error = event.step_failure_data.error
        while error is not None and error.cause is not None:
            error = error.cause
        if error is not None:
            return error.message
    return context.failure_event.message or ""


@run_failure_sensor(
    name="run_failure_alert",
    default_status=DefaultSensorStatus.RUNNING,
    description="Posts one message to the webhook for every failed run, with its failed checks.",
)
def run_failure_alert(context: RunFailureSensorContext, webhook: WebhookResource) -> None:
    run = context.dagster_run
    checks = failed_error_checks(context.instance, run.run_id)
    text = run_failure_message(run, _root_error(context), checks, settings.dagster_ui_url())
    _deliver(context, webhook, text)


@run_status_sensor(
    run_status=DagsterRunStatus.SUCCESS,
    name="failed_check_alert",
    default_status=DefaultSensorStatus.RUNNING,
    description=(
        "Posts one message to the webhook for every successful run in which checks of "
        "severity ERROR failed (failed runs: run_failure_alert)."
    ),
)
def failed_check_alert(context: RunStatusSensorContext, webhook: WebhookResource) -> None:
    run = context.dagster_run
    checks = failed_error_checks(context.instance, run.run_id)
    if checks:
        _deliver(context, webhook, failed_checks_message(run, checks, settings.dagster_ui_url()))
