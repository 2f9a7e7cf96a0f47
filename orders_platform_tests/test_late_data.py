"""Late data marks exactly the affected revenue partitions stale, and automation heals them."""

import warnings
from datetime import UTC, date, datetime

import pytest
from dagster import AssetKey, build_sensor_context, evaluate_automation_conditions
from dagster._core.asset_graph_view.asset_graph_view import AssetGraphView, TemporalContext
from dagster._core.definitions.data_version import CachingStaleStatusResolver, StaleStatus

from orders_platform.definitions import defs
from orders_platform.sensors.landing import landing_file_sensor
from orders_platform.transform.automation import heal_spans
from orders_platform_tests.fixtures.late_events import event_line

REVENUE_ASSETS = (AssetKey("fct_orders"), AssetKey("revenue_daily"))
# the lateness reports, built after the marts they read (`transform.automation.after_the_marts`)
REPORTS = (AssetKey("order_lateness_daily"), AssetKey("order_completeness_curve"))
NOW = datetime.now(UTC).isoformat(timespec="seconds")


def stale_status(platform, key: AssetKey, day: str) -> StaleStatus:
    """What the UI's partition panel (GraphQL staleStatusByPartition) reads."""
    graph = defs.resolve_asset_graph()
    view = AssetGraphView(
        temporal_context=TemporalContext(effective_dt=datetime.now(UTC), last_event_id=None),
        instance=platform.instance,
        asset_graph=graph,
    )
    resolver = CachingStaleStatusResolver(platform.instance, graph, loading_context=view)
    return resolver.get_status(key, day), resolver.get_stale_root_causes(key, day)


def land_late(platform, name: str, lines: list[str]) -> None:
    """A file that lands now and is loaded by the ingestion asset, as in production."""
    (platform.landing / name).write_text("".join(f"{line}\n" for line in lines))
    assert platform.run_job("ingest_orders_job").success


def refund(order_id: str, placed_at: str) -> str:
    row = f"late-{order_id}-{placed_at}"
    return event_line(row, order_id, "c-late", "refunded", '"10.00"', placed_at, NOW)


@pytest.mark.slow
def test_a_late_event_marks_its_day_stale_on_both_revenue_assets_and_no_other(merged_platform):
    land_late(merged_platform, "late-1.jsonl", [refund("o-0302-1", "2026-03-02T09:00:00Z")])
    for key in REVENUE_ASSETS:
        status, causes = stale_status(merged_platform, key, "2026-03-02")
        assert status == StaleStatus.STALE, key
        assert [c.key.asset_key for c in causes] == [AssetKey("landed_order_days")]
        for neighbour in ("2026-03-01", "2026-03-03"):
            assert stale_status(merged_platform, key, neighbour)[0] == StaleStatus.FRESH
    assert merged_platform.remerge("2026-03-02", "2026-03-02").success
    for key in REVENUE_ASSETS:
        assert stale_status(merged_platform, key, "2026-03-02")[0] == StaleStatus.FRESH


@pytest.mark.slow
def test_a_re_dated_order_marks_both_the_day_it_leaves_and_the_day_it_enters(merged_platform):
    land_late(merged_platform, "late-2.jsonl", [refund("o-0310-1", "2026-03-12T08:00:00Z")])
    for key in REVENUE_ASSETS:
        statuses = {
            d: stale_status(merged_platform, key, d)[0]
            for d in ("2026-03-10", "2026-03-11", "2026-03-12")
        }
        assert statuses == {
            "2026-03-10": StaleStatus.STALE,
            "2026-03-11": StaleStatus.FRESH,
            "2026-03-12": StaleStatus.STALE,
        }


@pytest.mark.slow
def test_automation_requests_exactly_the_stale_partitions(merged_platform):
    warnings.simplefilter("ignore")
    baseline = evaluate_automation_conditions(defs=defs, instance=merged_platform.instance)
    assert baseline.total_requested == 0
    land_late(merged_platform, "late-3.jsonl", [refund("o-0305-1", "2026-03-05T07:00:00Z")])
    result = evaluate_automation_conditions(
        defs=defs, instance=merged_platform.instance, cursor=baseline.cursor
    )
    for key in REVENUE_ASSETS:
        assert result.get_requested_partitions(key) == {"2026-03-05"}, key
    again = evaluate_automation_conditions(
        defs=defs, instance=merged_platform.instance, cursor=result.cursor
    )
    assert again.total_requested == 0


@pytest.mark.slow
def test_automation_heals_stale_days_apart_in_one_run_and_the_reports_after_it(merged_platform):
    warnings.simplefilter("ignore")
    baseline = evaluate_automation_conditions(defs=defs, instance=merged_platform.instance)
    land_late(
        merged_platform,
        "late-apart.jsonl",
        [
            refund("o-0303-1", "2026-03-03T07:00:00Z"),
            refund("o-0307-1", "2026-03-07T07:00:00Z"),
        ],
    )
    result = evaluate_automation_conditions(
        defs=defs, instance=merged_platform.instance, cursor=baseline.cursor
    )
    between = {f"2026-03-0{d}" for d in range(3, 8)}
    for key in REVENUE_ASSETS:
        assert result.get_requested_partitions(key) == between, key
    for key in REPORTS:
        assert result.get_requested_partitions(key) == set(), f"{key} waits for the marts"
    assert merged_platform.remerge("2026-03-03", "2026-03-07").success
    after = evaluate_automation_conditions(
        defs=defs, instance=merged_platform.instance, cursor=result.cursor
    )
    for key in REVENUE_ASSETS:
        assert after.get_requested_partitions(key) == set(), key
    for key in REPORTS:
        assert after.get_requested_partitions(key) == between, key


@pytest.mark.slow
def test_a_day_between_that_no_load_has_reported_is_healed_with_its_neighbours(merged_platform):
    # The fixture holds orders for 03-01..14 only: 03-21 has no observation on
    # landed_order_days, like history loaded before day versions were reported.
    warnings.simplefilter("ignore")
    baseline = evaluate_automation_conditions(defs=defs, instance=merged_platform.instance)
    land_late(
        merged_platform,
        "late-unreported-between.jsonl",
        [
            refund("o-0320-1", "2026-03-20T07:00:00Z"),
            refund("o-0322-1", "2026-03-22T07:00:00Z"),
        ],
    )
    result = evaluate_automation_conditions(
        defs=defs, instance=merged_platform.instance, cursor=baseline.cursor
    )
    for key in REVENUE_ASSETS:
        assert result.get_requested_partitions(key) == {
            "2026-03-20",
            "2026-03-21",
            "2026-03-22",
        }, key


def test_heal_spans_join_days_apart_with_the_days_between():
    days = [date(2026, 11, 25), date(2026, 11, 10), date(2026, 11, 21), date(2026, 11, 20)]
    assert heal_spans(days) == [(date(2026, 11, 10), date(2026, 11, 25))]


def test_heal_spans_split_days_further_apart_than_the_widest_span():
    days = [date(2026, 1, 1), date(2026, 1, 3), date(2026, 1, 4), date(2026, 3, 1)]
    assert heal_spans(days, max_days=3) == [
        (date(2026, 1, 1), date(2026, 1, 3)),
        (date(2026, 1, 4), date(2026, 1, 4)),
        (date(2026, 3, 1), date(2026, 3, 1)),
    ]


def test_heal_spans_of_no_days_are_none():
    assert heal_spans([]) == []


def test_the_landing_sensor_requests_one_ingestion_per_new_files(platform):
    platform.landing.mkdir(parents=True)
    (platform.landing / "a.jsonl").write_text("{}\n")
    (platform.landing / "b.jsonl.tmp").write_text("{")
    first = landing_file_sensor(build_sensor_context(instance=platform.instance))
    assert len(first.run_requests) == 1
    again = landing_file_sensor(
        build_sensor_context(instance=platform.instance, cursor=first.cursor)
    )
    assert not getattr(again, "run_requests", None)
    (platform.landing / "c.jsonl").write_text("{}\n")
    more = landing_file_sensor(
        build_sensor_context(instance=platform.instance, cursor=first.cursor)
    )
    assert len(more.run_requests) == 1
