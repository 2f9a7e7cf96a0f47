"""Each check fails when it should, passes otherwise, and says what a person should look at."""

import uuid
from datetime import UTC, date, datetime, time, timedelta

import pytest
from dagster import AssetKey, AssetMaterialization, TableColumn, TableSchema
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)

from orders_platform.checks.freshness import yesterday_freshness
from orders_platform.checks.schema import schema_diff
from orders_platform.transform.assets import orders_daily_dbt_models
from orders_platform_tests.fixtures.late_events import both_waves

FIRST, LAST = "2026-03-01", "2026-03-14"
FOURTEEN_DAYS = [(date(2026, 3, 1) + timedelta(days=n)).isoformat() for n in range(14)]
FCT_RECONCILES = "reconciles_with_landing_fct_orders_orders"
# revenue_daily is proven through fct_orders: equal to its totals, day by day
REVENUE_MATCHES = "matches_fct_orders_revenue_daily"
DAILY_MARTS = {"fct_orders", "revenue_daily"}


def by_partition(result_or_evaluations, check_name):
    """One check's evaluations by partition, from a run result or a list of evaluations."""
    evaluations = (
        result_or_evaluations
        if isinstance(result_or_evaluations, list)
        else result_or_evaluations.get_asset_check_evaluations()
    )
    return {
        evaluation.partition: evaluation
        for evaluation in evaluations
        if evaluation.check_name == check_name
    }


def landing_checks(result):
    return [
        e for e in result.get_asset_check_evaluations() if e.asset_key == AssetKey("orders_landing")
    ]


def metadata_text(evaluation, key):
    return str(evaluation.metadata[key].value)


@pytest.mark.slow
def test_a_14_day_range_run_records_every_check_for_each_day(
    late_merged_platform, late_merged_snapshot
):
    result = late_merged_platform.check_evaluations(late_merged_snapshot.facts["run_id"])
    run_id = late_merged_snapshot.facts["run_id"]
    for check in (FCT_RECONCILES, REVENUE_MATCHES, "unique_fct_orders_order_id"):
        evaluations = by_partition(result, check)
        assert sorted(evaluations) == FOURTEEN_DAYS, check
        assert all(e.passed for e in evaluations.values()), check
        # each day's verdict is about that day's materialization by this run
        targets = {e.target_materialization_data for e in evaluations.values()}
        assert {t.run_id for t in targets} == {run_id}, check
        assert len({t.storage_id for t in targets}) == len(FOURTEEN_DAYS), check


def only_evaluation(result, check_name):
    [evaluation] = [e for e in result.get_asset_check_evaluations() if e.check_name == check_name]
    return evaluation


@pytest.mark.slow
def test_a_merged_row_whose_key_another_row_holds_fails_uniqueness_and_blocks_revenue(
    merged_platform,
):
    """The build proves only the rows it merged, but each against the whole table: a row the
    re-merge never touches (dated outside its window) holding the event id of an order the
    re-merge writes makes that event id the latest of two orders."""
    with merged_platform.connect() as conn:
        conn.execute(
            "insert into fct_orders select * replace ("
            "'o-tampered' as order_id, date '2026-03-20' as order_date) "
            "from fct_orders where order_id = 'o-0310-1'"
        )
        [(event_id,)] = conn.execute(
            "select latest_event_id from fct_orders where order_id = 'o-0310-1'"
        ).fetchall()
    result = merged_platform.remerge("2026-03-08", LAST, raise_on_error=False)
    assert not result.success
    # a whole-table verdict fails every day of the run
    uniqueness = by_partition(result, "unique_fct_orders_latest_event_id")
    assert len(uniqueness) == 7
    assert not any(e.passed for e in uniqueness.values())
    assert event_id in metadata_text(uniqueness["2026-03-10"], "failures")
    assert all(e.passed for e in by_partition(result, "unique_fct_orders_order_id").values())
    materialized = {e.asset_key for e in result.get_asset_materialization_events() if e.asset_key}
    assert AssetKey("revenue_daily") not in materialized
    failure = result.get_step_failure_events()[0].step_failure_data.error.to_string()
    assert "unique_fct_orders_latest_event_id" in failure
    assert "revenue_daily" in failure


@pytest.mark.slow
def test_the_staging_refresh_proves_the_events_its_run_loaded_against_every_event(
    merged_platform,
):
    """An event id loaded by this run that an earlier landed event holds fails the run's
    staging uniqueness; the run that loaded nothing has nothing new to prove."""
    run_id = str(uuid.uuid4())
    with merged_platform.connect() as conn:
        # as if this run had loaded the newest event under the oldest event's id
        conn.execute(
            "update orders_landing set load_id = ?, "
            "event_id = (select min(event_id) from orders_landing where not is_retry) "
            "where event_id = (select max(event_id) from orders_landing where not is_retry)",
            [run_id],
        )
    loaded = merged_platform.run_job("ingest_orders_job", run_id=run_id, raise_on_error=False)
    assert not only_evaluation(loaded, "unique_stg_orders_event_id").passed
    later = merged_platform.run_job("ingest_orders_job", raise_on_error=False)
    assert only_evaluation(later, "unique_stg_orders_event_id").passed


@pytest.mark.slow
def test_a_checks_only_run_proves_uniqueness_over_the_whole_table(merged_platform):
    """A duplicate no build touches (written by hand, outside every window) is found by the
    whole-table audit that a checks-only run is."""
    with merged_platform.connect() as conn:
        conn.execute(
            "insert into fct_orders select * replace (date '2026-03-20' as order_date) "
            "from fct_orders where order_id = 'o-0301-1'"
        )
    result = merged_platform.run_job(
        "orders_checks_job",
        tags={ASSET_PARTITION_RANGE_START_TAG: "2026-03-08", ASSET_PARTITION_RANGE_END_TAG: LAST},
        raise_on_error=False,
    )
    uniqueness = by_partition(result, "unique_fct_orders_order_id")
    assert len(uniqueness) == 7
    assert not any(e.passed for e in uniqueness.values())
    assert "o-0301-1" in metadata_text(uniqueness["2026-03-10"], "failures")


@pytest.mark.slow
def test_an_amount_tampered_by_a_cent_fails_reconciliation_for_that_day_only(merged_platform):
    with merged_platform.connect() as conn:
        conn.execute(
            """
            update fct_orders set amount = amount + 0.01
            where order_id = (
                select min(order_id) from fct_orders
                where order_date = '2026-03-05' and status not in ('cancelled', 'refunded')
            )
            """
        )
    result = merged_platform.run_job(
        "orders_checks_job",
        tags={ASSET_PARTITION_RANGE_START_TAG: FIRST, ASSET_PARTITION_RANGE_END_TAG: LAST},
        raise_on_error=False,
    )
    reconciliation = by_partition(result, FCT_RECONCILES)
    assert sorted(reconciliation) == FOURTEEN_DAYS
    assert [day for day, e in reconciliation.items() if not e.passed] == ["2026-03-05"]
    failing = reconciliation["2026-03-05"].metadata
    assert failing["net_revenue_difference"].value == pytest.approx(0.01)
    assert failing["orders_difference"].value == 0
    # revenue_daily still holds the landed total, so it no longer equals fct_orders that day
    revenue = by_partition(result, REVENUE_MATCHES)
    assert [day for day, e in revenue.items() if not e.passed] == ["2026-03-05"]
    assert revenue["2026-03-05"].metadata["net_revenue_difference"].value == pytest.approx(-0.01)


@pytest.mark.slow
def test_a_checks_only_run_reports_every_selected_check_even_after_one_fails(merged_platform):
    with merged_platform.connect() as conn:
        conn.execute("delete from fct_orders where order_date = '2026-03-05'")
    result = merged_platform.run_job(
        "orders_checks_job",
        tags={ASSET_PARTITION_RANGE_START_TAG: FIRST, ASSET_PARTITION_RANGE_END_TAG: LAST},
        raise_on_error=False,
    )
    assert not result.success
    assert not result.get_asset_materialization_events()
    dbt_checks = {
        key.name
        for key in orders_daily_dbt_models.check_keys
        if key.asset_key.path[-1] in DAILY_MARTS
    }
    reported = {e.check_name for e in result.get_asset_check_evaluations()}
    assert dbt_checks <= reported, f"never evaluated: {sorted(dbt_checks - reported)}"
    fct = by_partition(result, FCT_RECONCILES)
    assert [day for day, e in fct.items() if not e.passed] == ["2026-03-05"]
    revenue = by_partition(result, REVENUE_MATCHES)
    assert sorted(revenue) == FOURTEEN_DAYS
    # revenue_daily, untouched, still counts the deleted day's orders that fct_orders lost
    assert [day for day, e in revenue.items() if not e.passed] == ["2026-03-05"]


def test_deleting_a_rejected_row_fails_nothing_lost_and_names_the_file(platform):
    platform.land(both_waves())
    result = platform.run_job("ingest_orders_job", raise_on_error=False)
    [passing] = [
        e for e in result.get_asset_check_evaluations() if e.asset_key.path == ["orders_landing"]
    ]
    assert passing.passed
    with platform.connect() as conn:
        conn.execute(
            "delete from orders_rejected where source_file = '2026-03-24T07.jsonl' "
            "and source_line_number = (select min(source_line_number) from orders_rejected "
            "where source_file = '2026-03-24T07.jsonl')"
        )
    result = platform.run_job("ingest_orders_job", raise_on_error=False)
    [failing] = [
        e for e in result.get_asset_check_evaluations() if e.asset_key.path == ["orders_landing"]
    ]
    assert not failing.passed
    assert failing.metadata["unaccounted"].value == 1
    assert "2026-03-24T07.jsonl" in metadata_text(failing, "files_that_do_not_add_up")
    assert "2026-03-15T06.jsonl" not in metadata_text(failing, "files_that_do_not_add_up")


NOW = datetime(2026, 3, 15, 3, 0, tzinfo=UTC)


def test_freshness_passes_when_yesterday_is_materialized():
    assert yesterday_freshness(NOW, time(2, 0), {"2026-03-14"}).passed


def test_freshness_fails_when_yesterday_is_missing_after_the_deadline():
    result = yesterday_freshness(NOW, time(2, 0), {"2026-03-13"})
    assert not result.passed
    assert result.partition == "2026-03-14"
    assert "overdue by 1:00:00" in result.detail


def test_freshness_is_not_due_before_the_deadline():
    assert yesterday_freshness(NOW, time(4, 0), set()).passed


def test_the_freshness_check_reads_partitions_from_the_instance(platform, monkeypatch):
    monkeypatch.setenv("ORDERS_REVENUE_DEADLINE_UTC", "00:00")
    result = platform.run_job("revenue_freshness_job")
    [missing] = result.get_asset_check_evaluations()
    assert not missing.passed
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    platform.instance.report_runless_asset_event(
        AssetMaterialization(asset_key="revenue_daily", partition=yesterday)
    )
    [present] = platform.run_job("revenue_freshness_job").get_asset_check_evaluations()
    assert present.passed


def test_schema_diff_names_added_removed_and_retyped_columns():
    before = TableSchema([TableColumn("a", "integer"), TableColumn("b", "varchar")])
    after = TableSchema([TableColumn("a", "bigint"), TableColumn("c", "date")])
    assert schema_diff(before, after) == [
        {"column": "a", "change": "type changed", "before": "integer", "after": "bigint"},
        {"column": "b", "change": "removed", "before": "varchar", "after": ""},
        {"column": "c", "change": "added", "before": "", "after": "date"},
    ]


@pytest.mark.slow
def test_a_column_added_to_a_mart_is_reported(late_merged_platform, late_merged_snapshot):
    # the late re-merge is revenue_daily's second materialization: compared, unchanged
    [unchanged] = [
        e
        for e in late_merged_platform.check_evaluations(late_merged_snapshot.facts["run_id"])
        if e.check_name == "column_schema_unchanged" and e.asset_key.path == ["revenue_daily"]
    ]
    assert unchanged.passed
    with late_merged_platform.connect() as conn:
        conn.execute("alter table revenue_daily add column note varchar")
    result = late_merged_platform.remerge(LAST, LAST)
    assert result.success
    [changed] = [
        e
        for e in result.get_asset_check_evaluations()
        if e.check_name == "column_schema_unchanged" and e.asset_key.path == ["revenue_daily"]
    ]
    assert not changed.passed
    assert "| note | added |" in metadata_text(changed, "diff")
