"""The dbt resource runs dbt in process and stays true to what dagster-dbt and dbt would do."""

import inspect
import json
import os
import subprocess
import sys

import dagster_dbt.core.dbt_cli_invocation as dagster_dbt_invocation
from dagster_dbt import DbtCliInvocation

from orders_platform.dagster_internals import DbtInProcess, InProcessDbtCli, environment
from orders_platform.dbt_project import dbt_executable
from orders_platform.definitions import defs
from orders_platform.settings import DBT_PROJECT_DIR
from orders_platform.transform.dbt_resource import OrdersDbtCliResource
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
    parent = InProcessDbtCli.__mro__[1]
    assert "_cli_version" in vars(parent)
    assert "_initialize_dbt_core_adapter" in vars(parent)
    # dbt runs in process where dagster-dbt starts its subprocess
    assert "subprocess.Popen(" in inspect.getsource(DbtCliInvocation.run)
    assert dagster_dbt_invocation.subprocess is subprocess


def _event_names(stdout: bytes) -> list[str]:
    return [json.loads(line)["info"]["name"] for line in stdout.splitlines() if line.strip()]


def test_dbt_in_process_prints_the_events_a_dbt_subprocess_prints(merged_platform, tmp_path, capfd):
    command = [dbt_executable(), "build", "--select", "stg_orders", "--log-format", "json"]
    env = {**os.environ, "DBT_TARGET_PATH": str(tmp_path / "subprocess")}
    by_subprocess = subprocess.run(
        command, cwd=DBT_PROJECT_DIR, env=env, capture_output=True, check=True
    ).stdout
    env["DBT_TARGET_PATH"] = str(tmp_path / "in_process")
    capfd.readouterr()
    dbt = DbtInProcess(command, env=env, cwd=DBT_PROJECT_DIR)
    in_process = b"".join(dbt.stdout)
    assert dbt.wait() == 0
    names = _event_names(in_process)
    assert "LogModelResult" in names and "LogTestResult" in names
    assert names == _event_names(by_subprocess)
    # dbt's own console log is off in process: dagster-dbt re-prints the events once
    assert '"LogModelResult"' not in capfd.readouterr().out


def test_a_failing_dbt_in_process_exits_non_zero(merged_platform, tmp_path):
    command = [dbt_executable(), "build", "--select", "no_such_model+", "--warn-error"]
    env = {**os.environ, "DBT_TARGET_PATH": str(tmp_path)}
    dbt = DbtInProcess(command, env=env, cwd=DBT_PROJECT_DIR)
    assert dbt.wait() != 0


def test_after_a_run_another_process_can_write_the_warehouse(merged_platform):
    assert merged_platform.run_job("orders_daily_job", partition_key="2026-03-14").success
    # dbt ran in this process: its DuckDB database must be closed, the write lock free
    writer = "import duckdb, sys; duckdb.connect(sys.argv[1]).execute('create table t as select 1')"
    completed = subprocess.run(
        [sys.executable, "-c", writer, str(merged_platform.warehouse)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr


def test_the_run_environment_is_restored_after_dbt_starts(monkeypatch):
    monkeypatch.setenv("DBT_ENV_CUSTOM_ENV_ORDERS_RUN_ID", "from-the-shell")
    monkeypatch.delenv("DBT_ENV_CUSTOM_ENV_ORDERS_WINDOW_START", raising=False)
    with environment(
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


def test_orders_dbt_in_process_false_is_stock_dagster_dbt(merged_platform, monkeypatch, tmp_path):
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path))
    resource = _resource()
    runs = {}
    for in_process in ("true", "false"):
        monkeypatch.setenv("ORDERS_DBT_IN_PROCESS", in_process)
        resource = OrdersDbtCliResource(
            project_dir=resource.project_dir, dbt_executable=dbt_executable()
        )
        invocation = resource.build(["build", "--select", "stg_orders"], env={}, context=None)
        runs[in_process] = (invocation, [e for e in invocation.stream_raw_events()])
        assert invocation.is_successful()
    assert isinstance(runs["true"][0].process, DbtInProcess)
    assert isinstance(runs["false"][0].process, subprocess.Popen)
    # the same dbt events either way
    names = {
        key: [e.raw_event["info"]["name"] for e in events] for key, (_, events) in runs.items()
    }
    assert names["true"] == names["false"]
    assert dagster_dbt_invocation.subprocess is subprocess
