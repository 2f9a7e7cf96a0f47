"""Alerts: a failed run, a failed reconciliation and a missed deadline each reach a real local
webhook exactly once, whatever the sensors' later ticks, and a webhook that is down or
failing never breaks a sensor."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from dagster import AssetMaterialization, DagsterInstance, SensorDefinition, build_sensor_context
from dagster._core.definitions.sensor_definition import SensorExecutionData
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)

from orders_platform.notify.alerts import failed_check_alert, run_failure_alert
from orders_platform.notify.incidents import partition_ranges
from orders_platform.notify.webhook import WebhookResource
from orders_platform_tests.harness import Platform, Receiver

SENSORS = (run_failure_alert, failed_check_alert)
UI_URL = "https://dagster.example.internal"
# Short waits: the retry tests must not sleep for real backoffs.
WEBHOOK = WebhookResource(backoff_seconds=0.01, max_wait_seconds=0.05)


class Alerts:
    """Both alert sensors of one instance, ticked as the daemon ticks them (each from its
    own cursor)."""

    def __init__(self, instance: DagsterInstance) -> None:
        self.instance = instance
        self.cursors: dict[str, str | None] = {sensor.name: None for sensor in SENSORS}
        self.tick()  # the first tick of a run-status sensor only sets its cursor

    def tick(self) -> list[SensorExecutionData]:
        return [self._tick(sensor) for sensor in SENSORS]

    def _tick(self, sensor: SensorDefinition) -> SensorExecutionData:
        context = build_sensor_context(
            instance=self.instance,
            cursor=self.cursors[sensor.name],
            resources={"webhook": WEBHOOK},
        )
        result = sensor.evaluate_tick(context)
        self.cursors[sensor.name] = result.cursor
        return result


@pytest.fixture
def receiver(monkeypatch) -> Iterator[Receiver]:
    with Receiver() as receiver:
        monkeypatch.setenv("ORDERS_SLACK_WEBHOOK_URL", receiver.url)
        monkeypatch.setenv("ORDERS_DAGSTER_UI_URL", UI_URL + "/")
        yield receiver


def fail_a_run(platform: Platform, monkeypatch) -> str:
    """A real ingestion run that fails: the engine setting is wrong."""
    with monkeypatch.context() as env:
        env.setenv("ORDERS_ENGINE", "not-an-engine")
        result = platform.run_job("ingest_orders_job", raise_on_error=False)
    assert not result.success
    return result.run_id


def test_a_failed_run_is_one_message_with_its_error_and_a_link(platform, receiver, monkeypatch):
    alerts = Alerts(platform.instance)
    run_id = fail_a_run(platform, monkeypatch)
    alerts.tick()
    [message] = receiver.messages
    assert "Run failed: job ingest_orders_job" in message
    assert "ORDERS_ENGINE='not-an-engine'" in message
    assert f"Run: {UI_URL}/runs/{run_id}" in message
    alerts.tick()
    assert len(receiver.messages) == 1


def test_a_missed_deadline_is_one_message_naming_the_check_and_the_day(
    platform, receiver, monkeypatch
):
    alerts = Alerts(platform.instance)
    monkeypatch.setenv("ORDERS_REVENUE_DEADLINE_UTC", "00:00")
    result = platform.run_job("revenue_freshness_job")
    assert result.success  # a failed freshness check does not fail its run
    alerts.tick()
    [message] = receiver.messages
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    assert "Checks failed (severity ERROR): job revenue_freshness_job" in message
    assert f"• revenue_daily · yesterday_materialized_by_deadline: partitions {yesterday}" in (
        message
    )
    assert f"{UI_URL}/runs/{result.run_id}" in message
    alerts.tick()
    assert len(receiver.messages) == 1


def test_a_deadline_met_sends_nothing(platform, receiver, monkeypatch):
    alerts = Alerts(platform.instance)
    monkeypatch.setenv("ORDERS_REVENUE_DEADLINE_UTC", "00:00")
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    platform.instance.report_runless_asset_event(
        AssetMaterialization(asset_key="revenue_daily", partition=yesterday)
    )
    assert platform.run_job("revenue_freshness_job").success
    alerts.tick()
    assert receiver.requests == 0


@pytest.mark.slow
def test_a_failed_reconciliation_is_one_message_with_the_failing_days_as_ranges(
    merged_platform, receiver
):
    alerts = Alerts(merged_platform.instance)
    with merged_platform.connect() as conn:
        conn.execute(
            """
            update fct_orders set amount = amount + 0.01
            where order_id in (
                select min(order_id) from fct_orders
                where order_date in ('2026-03-04', '2026-03-05', '2026-03-06', '2026-03-10')
                  and status not in ('cancelled', 'refunded')
                group by order_date
            )
            """
        )
    result = merged_platform.run_job(
        "orders_checks_job",
        tags={
            ASSET_PARTITION_RANGE_START_TAG: "2026-03-01",
            ASSET_PARTITION_RANGE_END_TAG: "2026-03-14",
        },
        raise_on_error=False,
    )
    assert not result.success
    alerts.tick()
    [message] = receiver.messages
    assert "Run failed: job orders_checks_job, partitions 2026-03-01..2026-03-14" in message
    days = "partitions 2026-03-04..2026-03-06, 2026-03-10"
    assert f"• fct_orders · reconciles_with_landing_fct_orders_orders: {days}" in message
    assert f"• revenue_daily · matches_fct_orders_revenue_daily: {days}" in message
    assert f"{UI_URL}/runs/{result.run_id}" in message
    alerts.tick()
    assert len(receiver.messages) == 1


def test_a_webhook_that_refuses_connections_leaves_the_sensor_healthy(platform, monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    monkeypatch.setenv("ORDERS_SLACK_WEBHOOK_URL", f"http://127.0.0.1:{closed_port}/hook")
    alerts = Alerts(platform.instance)
    before = alerts.cursors[run_failure_alert.name]
    fail_a_run(platform, monkeypatch)
    failure_tick, _ = alerts.tick()
    assert [reaction.error for reaction in failure_tick.dagster_run_reactions] == [None]
    assert alerts.cursors[run_failure_alert.name] != before  # moved past the run
    with Receiver() as receiver:
        monkeypatch.setenv("ORDERS_SLACK_WEBHOOK_URL", receiver.url)
        alerts.tick()  # the webhook is back: the missed run is not retried, nothing else is due
        assert receiver.requests == 0
        run_id = fail_a_run(platform, monkeypatch)
        alerts.tick()
        [message] = receiver.messages
        assert run_id in message


def test_a_webhook_answering_503_then_200_is_retried():
    with Receiver(answers=(503,)) as receiver, pytest.MonkeyPatch.context() as env:
        env.setenv("ORDERS_SLACK_WEBHOOK_URL", receiver.url)
        delivery = WEBHOOK.post("hello")
    assert delivery.delivered
    assert delivery.detail == "sent: HTTP 200 after 2 attempts"
    assert receiver.requests == 2 and receiver.messages == ["hello"]


def test_a_rate_limited_webhook_is_retried_until_the_attempts_run_out():
    with Receiver(answers=(429, 429, 429, 429)) as receiver, pytest.MonkeyPatch.context() as env:
        env.setenv("ORDERS_SLACK_WEBHOOK_URL", receiver.url)
        delivery = WEBHOOK.post("hello")
    assert not delivery.delivered
    assert delivery.detail == "not sent: HTTP 429 after 3 attempts"
    assert receiver.requests == 3


def test_a_client_error_is_not_retried():
    with Receiver(answers=(404,)) as receiver, pytest.MonkeyPatch.context() as env:
        env.setenv("ORDERS_SLACK_WEBHOOK_URL", receiver.url)
        delivery = WEBHOOK.post("hello")
    assert delivery == delivery.__class__(False, "not sent: HTTP 404")
    assert receiver.requests == 1


def test_an_unset_webhook_only_logs(monkeypatch):
    monkeypatch.delenv("ORDERS_SLACK_WEBHOOK_URL", raising=False)
    delivery = WebhookResource().post("hello")
    assert not delivery.delivered
    assert "ORDERS_SLACK_WEBHOOK_URL is not set" in delivery.detail


def test_partition_ranges_join_consecutive_days_and_count_past_the_limit():
    assert partition_ranges(["2026-03-06", "2026-03-04", "2026-03-05", "2026-03-10"]) == (
        "2026-03-04..2026-03-06, 2026-03-10"
    )
    every_other_day = [f"2026-01-{day:02d}" for day in range(1, 31, 2)]
    assert partition_ranges(every_other_day).endswith(", 2026-01-19, and 5 more ranges")
    assert partition_ranges(["us", "eu"]) == "eu, us"
