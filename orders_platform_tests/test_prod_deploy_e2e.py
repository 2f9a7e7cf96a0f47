"""The late-file scenario against the production deployment: Dagster on PostgreSQL.

Brings a deployment up through the functions `make prod-up` runs (deploy.lifecycle): its own
PostgreSQL cluster (run by the unprivileged `postgres` user when the test runs as root), then
a code server, the webserver and the daemon as separate processes, all on free 127.0.0.1
ports, in a directory of its own. The merged history goes into that instance first; then a
late file is healed through the running deployment exactly as under `dagster dev`. The runs
the UI shows are asserted to be the rows of PostgreSQL's `runs` table, and the generated
password to appear in no log. A second deployment shows `make prod-reload` restarting the
code server alone (refused while a run is in progress, unless forced: the run is then marked
failed), and `make prod-backup` / `make prod-restore` bringing back both Dagster's database
and the warehouse. Everything started is stopped (`make test-prod`; marker `postgres`).
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
from dagster import DagsterInstance, DagsterRun, DagsterRunStatus
from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

from deploy import postgres
from deploy.backup import backup, restore
from deploy.config import Deployment
from deploy.lifecycle import down, reload, start_dagster, start_postgres, up
from deploy.runs import deployment_instance
from deploy.services import pid_of, service, services
from orders_platform.resources.warehouse import connect_warehouse
from orders_platform_tests.dagster_dev import free_port, graphql
from orders_platform_tests.harness import Platform, Receiver
from orders_platform_tests.late_file_scenario import (
    DAY,
    assert_one_revision_and_one_notice,
    heal_a_late_file,
    order_before,
)
from orders_platform_tests.snapshots import merge_on_time_wave

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ALL_RUNS = "{ runsOrError { ... on Runs { results { runId } } } }"
LOCATIONS = """
{ workspaceOrError { ... on Workspace { locationEntries { locationOrLoadError { __typename } } } } }
"""


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    """A deployment of its own: warehouse and landing zone under `tmp_path`, its directory
    (PostgreSQL's data, logs, pid files, the Dagster home) under the system's temporary
    directory, which the `postgres` user can enter (pytest's own temporary root it cannot)
    and where the server's socket path stays short. Stopped and removed afterwards."""
    prod_dir = Path(tempfile.mkdtemp(prefix="orders-prod-"))
    prod_dir.chmod(0o711)
    settings = {
        "ORDERS_PROD_DIR": str(prod_dir),
        "ORDERS_PG_PORT": str(free_port()),
        "ORDERS_CODE_SERVER_PORT": str(free_port()),
        "ORDERS_WEBSERVER_PORT": str(free_port()),
        "ORDERS_WAREHOUSE": str(tmp_path / "platform" / "warehouse.duckdb"),
        "ORDERS_LANDING_DIR": str(tmp_path / "platform" / "landing"),
        "ORDERS_DBT_TARGET": "prod",
    }
    deployment = Deployment.from_env(settings)
    try:
        yield deployment
    finally:
        down(deployment, force=True)  # automation's last runs may still be going
        shutil.rmtree(prod_dir, ignore_errors=True)


def pg_runs(deployment: Deployment, password: str) -> dict[str, str]:
    """Run id -> status, read straight from the instance's `runs` table in PostgreSQL, as
    Dagster's own role over TCP with its password."""
    with (
        psycopg2.connect(
            host="127.0.0.1",
            port=deployment.pg_port,
            user=deployment.pg_role,
            password=password,
            dbname=deployment.pg_db,
        ) as conn,
        conn.cursor() as cursor,
    ):
        cursor.execute("select run_id, status from runs")
        return dict(cursor.fetchall())


def test_a_late_file_is_healed_through_the_postgres_deployment(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
):
    root = Path(deployment.platform_env["ORDERS_WAREHOUSE"]).parent
    base_env = {k: v for k, v in os.environ.items() if k != "ORDERS_SLACK_WEBHOOK_URL"}
    base_env.pop("ORDERS_PG_PASSWORD", None)  # the deployment generates its own
    env = deployment.dagster_env(base_env)
    password = env["ORDERS_PG_PASSWORD"]
    assert stat.S_IMODE(deployment.password_file.stat().st_mode) == 0o600

    start_postgres(deployment, env)
    # the history, merged into the deployment's instance before its daemon runs
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with DagsterInstance.get() as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
        platform = Platform(root=root, instance=instance)
        history_run = merge_on_time_wave(platform)["run_id"]
        amount, before = order_before(platform)

    with Receiver() as receiver:
        start_dagster(deployment, {**env, "ORDERS_SLACK_WEBHOOK_URL": receiver.url})
        port = deployment.webserver_port
        healed_after = heal_a_late_file(port, root / "landing", amount, receiver)
        ui_runs = {run["runId"] for run in graphql(port, ALL_RUNS)["runsOrError"]["results"]}
        assert_one_revision_and_one_notice(root / "warehouse.duckdb", amount, before, receiver)

    # the runs the UI shows, the history's (in-process) and automation's (the daemon's), are
    # rows of PostgreSQL's runs table
    stored = pg_runs(deployment, password)
    assert history_run in ui_runs and len(ui_runs) > 3, ui_runs  # 3: the history's runs
    assert ui_runs <= set(stored)
    assert not list(deployment.dagster_home.rglob("*.db")), "no SQLite storage in the home"
    # the generated password reached PostgreSQL and the processes, and no log
    for log in [*deployment.logs.iterdir(), *deployment.dagster_home.rglob("*")]:
        if log.is_file():
            assert password not in log.read_text(errors="replace"), log
    print(f"late file landed -> {DAY} fresh and reconciled in {healed_after:.0f}s (PostgreSQL)")


def test_a_code_change_restarts_only_the_code_server_and_a_backup_restores_both_stores(
    deployment: Deployment,
):
    env = deployment.dagster_env()
    start_postgres(deployment, env)
    start_dagster(deployment, env)
    before = {svc.name: pid_of(deployment, svc) for svc in services(deployment)}
    # a run in progress would end with the code server: refused, unless forced
    with deployment_instance(deployment, env) as instance:
        running = instance.add_run(
            DagsterRun(job_name="orders_daily_job", status=DagsterRunStatus.STARTED)
        ).run_id
    with pytest.raises(RuntimeError, match=running):
        reload(deployment)
    assert pid_of(deployment, service(deployment, "code-server")) == before["code-server"]

    reload(deployment, force=True)  # make prod-reload FORCE=1
    after = {svc.name: pid_of(deployment, svc) for svc in services(deployment)}
    assert after["code-server"] != before["code-server"]
    assert {k: after[k] for k in ("webserver", "daemon")} == {
        k: before[k] for k in ("webserver", "daemon")
    }
    assert postgres.is_running(deployment)
    # the webserver serves the location from the new code server
    located = graphql(deployment.webserver_port, LOCATIONS)["workspaceOrError"]
    assert [e["locationOrLoadError"]["__typename"] for e in located["locationEntries"]] == [
        "RepositoryLocation"
    ]
    password = env["ORDERS_PG_PASSWORD"]
    assert pg_runs(deployment, password)[running] == "FAILURE"  # its slot is free

    warehouse = Path(deployment.platform_env["ORDERS_WAREHOUSE"])
    with connect_warehouse(warehouse) as conn:
        conn.execute("create table kept as select 42 as answer")
    saved = backup(deployment)  # make prod-backup
    listing = subprocess.run(
        [str(postgres.bin_dir() / "pg_restore"), "--list", str(saved / "dagster.dump")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert " TABLE public runs " in listing and " TABLE public event_logs " in listing

    # lost after the backup: a table and the run's row; the restore brings both back
    with connect_warehouse(warehouse) as conn:
        conn.execute("drop table kept")
    with deployment_instance(deployment, env) as instance:
        instance.delete_run(running)
    down(deployment)
    restore(deployment, saved)  # make prod-restore BACKUP=...
    up(deployment)
    assert pg_runs(deployment, password)[running] == "FAILURE"
    with connect_warehouse(warehouse, read_only=True) as conn:
        assert conn.execute("select answer from kept").fetchall() == [(42,)]
    assert graphql(deployment.webserver_port, "{ version }")


@pytest.mark.skipif(os.geteuid() != 0, reason="as root, PostgreSQL runs as another user")
def test_a_data_directory_postgres_cannot_reach_is_refused_saying_how_to_fix_it(tmp_path):
    """pytest's own temporary root is 0700 and root's: the cluster's owner cannot enter it."""
    deployment = Deployment.from_env({"ORDERS_PROD_DIR": str(tmp_path / "prod")})
    with pytest.raises(postgres.PostgresError, match=r"cannot enter .*ORDERS_PROD_DIR"):
        postgres.init(deployment)
    assert not deployment.pg_data.exists()
