"""The pure rules that turn a Dagster run into a dbt command."""

import json
from datetime import UTC, date, datetime

import pytest

from orders_platform.schedules.schedules import remerge_partition_range
from orders_platform.transform.dbt_args import (
    DateWindow,
    FullRefreshRefusedError,
    dbt_build_args,
    dbt_run_env,
)


def _vars(args: list[str]) -> dict:
    return json.loads(args[args.index("--vars") + 1])


def test_a_partition_window_reaches_dbt_in_its_environment_with_an_exclusive_end():
    window = DateWindow.from_partition_keys(["2026-03-01", "2026-03-14"])
    env = dbt_run_env(window, run_id="run-1")
    assert env == {
        "DBT_ENV_CUSTOM_ENV_ORDERS_WINDOW_START": "2026-03-01",
        "DBT_ENV_CUSTOM_ENV_ORDERS_WINDOW_END": "2026-03-15",
        "DBT_ENV_CUSTOM_ENV_ORDERS_RUN_ID": "run-1",
    }


def test_every_run_has_the_same_dbt_arguments_so_dbt_can_reuse_its_parse():
    one_day = DateWindow.from_partition_keys(["2026-03-01"])
    two_weeks = DateWindow.from_partition_keys(["2026-03-01", "2026-03-14"])
    args = dbt_build_args(one_day, target="dev")
    assert args[0] == "build"
    assert "--vars" not in args
    assert args == dbt_build_args(two_weeks, target="dev") == dbt_build_args(None, target="dev")


def test_an_unpartitioned_build_passes_no_window_and_overrides_any_inherited_one():
    assert "--vars" not in dbt_build_args(None, target="prod")
    assert set(dbt_run_env(None).values()) == {""}


def test_unit_tests_are_left_out_of_every_build():
    args = dbt_build_args(None, target="dev")
    assert args[args.index("--exclude") + 1] == "test_type:unit"


def test_full_refresh_against_prod_is_refused_before_dbt_runs():
    with pytest.raises(FullRefreshRefusedError, match="prod"):
        dbt_build_args(None, target="prod", full_refresh=True)


def test_full_refresh_is_passed_through_on_dev():
    assert dbt_build_args(None, target="dev", full_refresh=True)[-1] == "--full-refresh"


def test_an_empty_window_is_rejected():
    with pytest.raises(ValueError, match="empty window"):
        DateWindow(date(2026, 3, 2), date(2026, 3, 2))


def test_the_nightly_remerge_covers_the_last_14_complete_days():
    assert remerge_partition_range(datetime(2026, 3, 15, 3, tzinfo=UTC)) == (
        "2026-03-01",
        "2026-03-14",
    )


def test_a_window_spans_its_first_to_its_last_partition_key():
    window = DateWindow.from_partition_keys(["2026-03-03", "2026-03-01", "2026-03-02"])
    assert window.as_vars() == {
        "orders_window_start": "2026-03-01",
        "orders_window_end": "2026-03-04",
    }


def test_settings_become_dbt_vars_that_are_the_same_for_every_run():
    window = DateWindow.from_partition_keys(["2026-03-01"])
    args = dbt_build_args(window, target="dev", settings_vars={"lateness_target_share": 0.95})
    assert _vars(args) == {"lateness_target_share": 0.95}
    other_window = DateWindow.from_partition_keys(["2026-03-02"])
    assert args == dbt_build_args(
        other_window, target="dev", settings_vars={"lateness_target_share": 0.95}
    )


def test_a_setting_may_never_override_the_run_window():
    window = DateWindow.from_partition_keys(["2026-03-01"])
    with pytest.raises(ValueError, match="per-run"):
        dbt_build_args(window, target="dev", settings_vars={"orders_window_start": "1999-01-01"})


def test_a_checks_only_run_tests_instead_of_building_so_no_check_is_skipped():
    args = dbt_build_args(None, target="prod", checks_only=True)
    assert args[0] == "test"
    assert args[1:] == dbt_build_args(None, target="prod")[1:]


def test_a_checks_only_run_cannot_full_refresh():
    with pytest.raises(ValueError, match="checks-only"):
        dbt_build_args(None, target="dev", checks_only=True, full_refresh=True)
