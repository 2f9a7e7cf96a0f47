"""The late-event fixture on Apache Spark (`local[2]`), against the DuckDB tests' oracle.

One warehouse serves the module, because every dbt invocation on Spark pays a JVM and
catalog start: the on-time wave is landed by Spark ingestion, staging is built and
2026-03-01..14 merged; the late wave is landed, 03-08..14 re-merged (a window without the
day a re-dated order leaves), then all 14 days re-merged as ONE Dagster backfill run. The
tests read what each run left. Expected values come from
`expectations.expected_from`, the same independent oracle the DuckDB tests use.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from dagster import AssetKey, ExecuteInProcessResult

from orders_platform_tests.expectations import expected_from
from orders_platform_tests.fixtures.late_events import both_waves, late_wave, on_time_wave
from orders_platform_tests.harness import AUDIT_COLUMNS, Platform, Receiver
from orders_platform_tests.snapshots import platform_copy
from orders_platform_tests.spark_harness import SparkPlatform, spark_platform_at
from orders_platform_tests.test_checks import FCT_RECONCILES, REVENUE_MATCHES, by_partition
from orders_platform_tests.test_order_history import (
    assert_known_orders_match_oracle,
    expected_links,
)
from orders_platform_tests.test_pipeline import assert_matches_oracle, dbt_commands

pytestmark = [pytest.mark.spark, pytest.mark.slow]

FIRST, LAST = "2026-03-01", "2026-03-14"
FOURTEEN_DAYS = [(date(2026, 3, 1) + timedelta(days=n)).isoformat() for n in range(14)]
EMPTIED_DAY = date(2026, 3, 7)  # o-0307-1, its only order, is re-dated to 03-08
# the reports built from the lateness macros (engine-specific clock arithmetic and percentiles)
# (table, its key)
LATENESS_MARTS = {
    "order_lateness_daily": "order_date",
    "order_completeness_curve": "arrival_age_days",
}


@dataclass
class Remerged:
    platform: SparkPlatform
    on_time_matches: bool
    # after re-merging only 03-08..14: (run succeeded, o-0307-1's dates, fct_orders rows on
    # 03-07, revenue_daily's 03-07, duplicated order ids)
    window_without_left_day: tuple[object, ...]
    result: ExecuteInProcessResult
    # the lateness and order-history runs automation would launch after that re-merge
    lateness: ExecuteInProcessResult
    history: ExecuteInProcessResult
    # what the history run announced
    messages: list[str]


def _left_day_state(platform: SparkPlatform, success: bool) -> tuple[object, ...]:
    rows = platform.rows
    return (
        success,
        rows("select order_date, previous_order_date from fct_orders where order_id = 'o-0307-1'"),
        rows("select count(*) from fct_orders where order_date = ?", [EMPTIED_DAY]),
        rows("select orders, net_revenue from revenue_daily where order_date = ?", [EMPTIED_DAY]),
        rows("select count(*) - count(distinct order_id) from fct_orders"),
    )


@pytest.fixture(scope="module")
def remerged(tmp_path_factory) -> Iterator[Remerged]:
    with spark_platform_at(tmp_path_factory.mktemp("spark")) as platform:
        platform.land(on_time_wave())
        assert platform.run_job("ingest_orders_job").success  # staging view on Spark
        assert platform.remerge(FIRST, LAST).success  # first build: the tables are created
        assert platform.record_history(FIRST, LAST).success
        try:
            assert_matches_oracle(platform, on_time_wave())
            on_time_matches = True
        except AssertionError:
            on_time_matches = False
        platform.land(late_wave())
        partial = platform.remerge("2026-03-08", LAST).success
        left_day = _left_day_state(platform, partial)
        result = platform.remerge(FIRST, LAST)
        lateness = platform.profile_lateness(FIRST, LAST)  # what automation runs next
        assert lateness.success
        with Receiver() as receiver, pytest.MonkeyPatch.context() as env:
            env.setenv("ORDERS_SLACK_WEBHOOK_URL", receiver.url)
            history = platform.record_history(FIRST, LAST)
        yield Remerged(
            platform, on_time_matches, left_day, result, lateness, history, receiver.messages
        )


def test_the_on_time_wave_is_merged_day_by_day_to_the_cent(remerged):
    assert remerged.on_time_matches


def test_the_late_wave_is_re_merged_by_one_backfill_run_day_by_day_to_the_cent(remerged):
    result = remerged.result
    assert result.success
    assert len(dbt_commands(remerged.platform.instance, result.run_id)) == 1
    assert_matches_oracle(remerged.platform, both_waves())


@pytest.mark.parametrize(
    ("run", "asset"),
    [("result", "revenue_daily"), ("lateness", "order_lateness_daily")],
    ids=["re-merge", "lateness-run"],
)
def test_each_run_records_each_of_the_14_days_of_its_asset(remerged, run, asset):
    materialized = {
        event.partition
        for event in getattr(remerged, run).get_asset_materialization_events()
        if event.asset_key == AssetKey(asset)
    }
    assert sorted(materialized) == FOURTEEN_DAYS


def test_the_order_history_equals_the_oracle_as_known_at_every_arrival(remerged):
    assert remerged.history.success
    assert_known_orders_match_oracle(remerged.platform, both_waves())


def test_the_revisions_are_linked_to_the_orders_behind_them_and_announced_once(remerged):
    rows = remerged.platform.rows
    revised = {d for (d,) in rows("select order_date from revenue_daily_revision_orders")}
    links = rows("select order_date, order_id from revenue_daily_revision_orders")
    assert links, "the late wave's revisions were linked to orders"
    assert set(links) == expected_links(on_time_wave(), both_waves(), revised)
    assert rows(
        "select count(*) from revenue_daily_revision_orders as links "
        "left join revenue_daily_revisions as revisions using (revision_key) "
        "where revisions.revision_key is null"
    ) == [(0,)]
    [message] = remerged.messages
    assert all("; " in line for line in message.splitlines() if line.startswith("• "))


def test_every_check_passes_for_each_of_the_14_days(remerged):
    for check in (FCT_RECONCILES, REVENUE_MATCHES, "unique_fct_orders_order_id"):
        evaluations = by_partition(remerged.result, check)
        assert sorted(evaluations) == FOURTEEN_DAYS, check
        assert all(e.passed for e in evaluations.values()), check


def test_the_re_dated_order_left_its_old_date_and_the_emptied_date_was_cleared(remerged):
    rows = remerged.platform.rows
    assert rows(
        "select order_date, previous_order_date from fct_orders where order_id = 'o-0307-1'"
    ) == [(date(2026, 3, 8), EMPTIED_DAY)]
    # insert_overwrite alone would have kept the old row in the 03-07 partition
    assert rows("select count(*) - count(distinct order_id) from fct_orders") == [(0,)]
    assert rows("select count(*) from fct_orders where order_date = ?", [EMPTIED_DAY]) == [(0,)]
    # revenue keeps the emptied day as an explicit zero, as on DuckDB
    assert rows(
        "select orders, net_revenue from revenue_daily where order_date = ?", [EMPTIED_DAY]
    ) == [(0, Decimal("0.00"))]
    assert rows("select count(*) - count(distinct order_date) from revenue_daily") == [(0,)]


def test_a_window_re_merge_also_clears_the_day_a_re_dated_order_left(remerged):
    # 03-07 is outside the window 03-08..14, yet its partition must lose o-0307-1's old row
    assert remerged.window_without_left_day == (
        True,
        [(date(2026, 3, 8), EMPTIED_DAY)],
        [(0,)],
        [(0, Decimal("0.00"))],
        [(0,)],
    )


def test_retries_and_quarantine_match_the_oracle(remerged):
    expected = expected_from(both_waves())
    rows = remerged.platform.rows
    assert dict(rows("select reason, count(*) from orders_rejected group by 1")) == (
        expected.rejected
    )
    assert rows("select count(*), count(*) filter (where is_retry) from orders_landing") == [
        (expected.loaded_lines, expected.retry_lines)
    ]
    # a retry never reaches the marts: one row per order, each its latest snapshot
    assert rows("select count(*) from fct_orders") == [(len(expected.orders),)]


def _lateness_marts(platform: Platform) -> dict[str, list[dict[str, object]]]:
    """Each mart's rows by column name, in key order: a Spark table's partition columns come
    last, so positions differ between the engines."""
    marts = {}
    with platform.connect() as conn:
        for table, key in LATENESS_MARTS.items():
            cursor = conn.execute(f"select * from {table} order by {key}")
            names = [column[0] for column in cursor.description]
            marts[table] = [
                {n: v for n, v in zip(names, row, strict=True) if n not in AUDIT_COLUMNS}
                for row in cursor.fetchall()
            ]
    return marts


def _same_value(spark: object, duck: object) -> bool:
    """Equal, floats to 1e-9 relative (the engines sum shares in different orders)."""
    if isinstance(spark, float) and isinstance(duck, float):
        return spark == pytest.approx(duck, rel=1e-9)
    return spark == duck


def test_the_lateness_marts_on_spark_equal_duckdb_s_for_the_same_files(
    remerged, late_landed_snapshot, tmp_path
):
    """No oracle of its own: the DuckDB build of these marts is held to one in test_lateness,
    so equality carries it over to Spark's `seconds_between`, percentiles and age spans."""
    spark = _lateness_marts(remerged.platform)  # before the DuckDB platform's environment
    # the module's history step for step: which days revenue_daily holds (and so the curve's
    # window) depends on it, e.g. a day emptied by a re-date stays as a zero row only if it
    # had been merged before. The snapshot holds the on-time wave ingested and merged over
    # FIRST..LAST, then the late wave landed.
    with platform_copy(late_landed_snapshot, tmp_path / "duck") as duck:
        assert duck.remerge("2026-03-08", LAST).success
        assert duck.remerge(FIRST, LAST).success
        assert duck.profile_lateness(FIRST, LAST).success
        expected = _lateness_marts(duck)
    for table in LATENESS_MARTS:
        assert len(spark[table]) == len(expected[table]) > 0, table
        for spark_row, duck_row in zip(spark[table], expected[table], strict=True):
            assert spark_row.keys() == duck_row.keys(), table
            assert all(_same_value(spark_row[n], duck_row[n]) for n in duck_row), (
                table,
                spark_row,
                duck_row,
            )
