"""As-of history and revision notifications, end to end through Dagster and dbt."""

import socket
from datetime import date
from decimal import Decimal

import pytest
from dagster import TableMetadataValue

from orders_platform_tests.expectations import expected_from
from orders_platform_tests.fixtures.late_events import both_waves, on_time_wave
from orders_platform_tests.snapshots import platform_copy

pytestmark = pytest.mark.slow

FIRST, LAST = "2026-03-01", "2026-03-14"


def expected_changes() -> dict[date, tuple[int, Decimal]]:
    """Per day: (orders delta, net revenue delta) between the on-time and both waves."""
    before, after = expected_from(on_time_wave()).days, expected_from(both_waves()).days
    changes = {}
    for day in before.keys() | after.keys():
        old, new = before.get(day), after.get(day)
        old_values = (
            (old.orders, old.net_revenue, old.cancelled_orders, old.refunded_amount)
            if old
            else (0, 0, 0, 0)
        )
        new_values = (
            (new.orders, new.net_revenue, new.cancelled_orders, new.refunded_amount)
            if new
            else (0, 0, 0, 0)
        )
        if old_values != new_values:
            changes[day] = (
                new_values[0] - old_values[0],
                Decimal(new_values[1]) - Decimal(old_values[1]),
            )
    return changes


def test_every_day_starts_with_a_first_version(merged_platform):
    rows = merged_platform.rows(
        "select order_date, is_first_version, net_revenue from revenue_daily_revisions"
    )
    first = {day: net for day, is_first, net in rows if is_first}
    assert first == {d: t.net_revenue for d, t in expected_from(on_time_wave()).days.items()}
    assert len(rows) == len(first)


def test_a_late_wave_adds_one_revision_per_changed_day_with_its_delta(
    late_merged_platform, late_merged_snapshot
):
    revisions = late_merged_platform.rows(
        "select order_date, orders_delta, net_revenue_delta, revised_by_run, arrival_load_ids "
        "from revenue_daily_revisions where not is_first_version"
    )
    assert {day: (orders, net) for day, orders, net, _, _ in revisions} == expected_changes()
    assert {run for *_, run, _ in revisions} == {late_merged_snapshot.facts["run_id"]}
    assert all(loads for *_, loads in revisions), "every revision names its arrival batches"


def test_a_re_merge_that_changes_nothing_adds_no_revision(
    late_merged_snapshot, remerged_again_snapshot, tmp_path
):
    count = "select count(*) from revenue_daily_revisions"
    with platform_copy(late_merged_snapshot, tmp_path / "once") as once:
        before = once.rows(count)
    with platform_copy(remerged_again_snapshot, tmp_path / "twice") as twice:
        assert twice.rows(count) == before


def test_the_history_answers_revenue_as_known_at_a_time(late_merged_platform):
    [(first_known, revised)] = late_merged_platform.rows(
        "select min(valid_from), max(valid_from) from revenue_daily_history "
        "where order_date = '2026-03-02'"
    )
    assert first_known < revised

    def known_at(moment):
        return late_merged_platform.rows(
            "select net_revenue from revenue_daily_history where order_date = '2026-03-02' "
            "and valid_from <= ? and (valid_to is null or valid_to > ?)",
            [moment, moment],
        )

    assert known_at(first_known) == [(Decimal("233.15"),)]
    assert known_at(revised) == [(Decimal("250.05"),)]
    assert late_merged_platform.rows(
        "select net_revenue, first_reported_net_revenue, revised_since_first_report, is_revised "
        "from finance_revenue_daily where order_date = '2026-03-02'"
    ) == [(Decimal("250.05"), Decimal("233.15"), Decimal("16.90"), True)]


def test_a_run_that_revises_history_posts_one_message(
    late_merged_snapshot, remerged_again_snapshot
):
    [message] = late_merged_snapshot.facts["messages"]
    assert remerged_again_snapshot.facts["messages"] == []  # nothing revised: no message
    assert f"for {len(expected_changes())} day(s)" in message
    assert "• 2026-03-07: net revenue 41.20 → 0.00 (-41.20), orders 1 → 0" in message


def test_a_failing_webhook_never_fails_the_run(late_landed_platform, monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    monkeypatch.setenv("ORDERS_SLACK_WEBHOOK_URL", f"http://127.0.0.1:{closed_port}/hook")
    assert late_landed_platform.remerge(FIRST, LAST).success
    result = late_landed_platform.record_history(FIRST, LAST)
    assert result.success
    [observation] = [
        e.event_specific_data.asset_observation
        for e in result.all_events
        if e.event_type_value == "ASSET_OBSERVATION"
    ]
    assert str(observation.metadata["notification"].value).startswith("not sent")
    revisions = observation.metadata["revisions"]
    assert isinstance(revisions, TableMetadataValue)
    assert {r.data["order_date"] for r in revisions.records} == {
        day.isoformat() for day in expected_changes()
    }
    assert observation.metadata["revised_days"].value == len(revisions.records)
