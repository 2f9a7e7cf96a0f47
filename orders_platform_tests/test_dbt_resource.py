"""The dbt resource's start-up shortcuts stay true to what dagster-dbt and dbt would do."""

import os
import subprocess

from orders_platform.dbt_project import dbt_executable
from orders_platform.definitions import defs
from orders_platform.transform.dbt_resource import OrdersDbtCliResource, _environment
from orders_platform_tests.dbt_log import invocation_dirs


def _resource() -> OrdersDbtCliResource:
    resource = defs.resources["dbt"]
    assert isinstance(resource, OrdersDbtCliResource)
    return resource


def test_the_version_answered_without_a_subprocess_is_the_one_dbt_reports():
    reported = subprocess.run(
        [dbt_executable(), "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert f"installed: {_resource()._cli_version}" in reported


def test_the_overridden_dagster_dbt_hooks_still_exist_upstream():
    # if dagster-dbt renames them, the overrides would silently stop applying
    parent = OrdersDbtCliResource.__mro__[1]
    assert "_cli_version" in vars(parent)
    assert "_initialize_dbt_core_adapter" in vars(parent)


def test_the_run_environment_is_restored_after_dbt_starts(monkeypatch):
    monkeypatch.setenv("DBT_ENV_CUSTOM_ENV_ORDERS_RUN_ID", "from-the-shell")
    monkeypatch.delenv("DBT_ENV_CUSTOM_ENV_ORDERS_WINDOW_START", raising=False)
    with _environment(
        {"DBT_ENV_CUSTOM_ENV_ORDERS_RUN_ID": "run-1", "DBT_ENV_CUSTOM_ENV_ORDERS_WINDOW_START": "x"}
    ):
        assert os.environ["DBT_ENV_CUSTOM_ENV_ORDERS_RUN_ID"] == "run-1"
    assert os.environ["DBT_ENV_CUSTOM_ENV_ORDERS_RUN_ID"] == "from-the-shell"
    assert "DBT_ENV_CUSTOM_ENV_ORDERS_WINDOW_START" not in os.environ


def test_a_run_after_a_run_reuses_the_parse_whatever_its_window(merged_platform):
    # the first run on this copy may re-parse (the warehouse path is part of dbt's profile)
    assert merged_platform.run_job("orders_daily_job", partition_key="2026-03-13").success
    result = merged_platform.run_job("orders_daily_job", partition_key="2026-03-14")
    assert result.success
    (invocation,) = invocation_dirs("orders_daily_dbt_models", result.run_id)
    log = invocation / "dbt.log"
    text = log.read_text()
    assert "Unable to do partial parsing" not in text
    assert "Partial parsing enabled" in text
