"""The production deployment's files and settings, without starting it (test_prod_deploy_e2e.py
starts one): the instance is the development one on PostgreSQL, the workspace reaches the
code server, the password is the environment's or a generated one only its owner reads, and
a stale pid file never leads to signalling a stranger.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import yaml

from deploy.config import INSTANCE_YAML, LOCATION_NAME, WORKSPACE_YAML, Deployment
from deploy.services import pid_of, service, stop_service
from orders_platform.dagster_internals.postgres import PooledPostgresEventLogStorage
from orders_platform.settings import REPO_ROOT

STORAGES = {
    "run_storage": ("dagster_postgres.run_storage", "PostgresRunStorage"),
    "event_log_storage": (
        "orders_platform.dagster_internals.postgres",
        "PooledPostgresEventLogStorage",
    ),
    "schedule_storage": ("dagster_postgres.schedule_storage", "PostgresScheduleStorage"),
}


def test_the_production_instance_is_the_development_one_with_its_storage_on_postgres():
    dev = yaml.safe_load((REPO_ROOT / "dagster.yaml").read_text())
    prod = yaml.safe_load(INSTANCE_YAML.read_text())
    storages = {name: prod.pop(name) for name in STORAGES}
    # same writer pool, run queue, run monitoring, retention: only the storage differs
    assert prod == dev
    assert not set(STORAGES) & set(dev)
    assert {name: (s["module"], s["class"]) for name, s in storages.items()} == STORAGES
    connections = [s["config"]["postgres_db"] for s in storages.values()]
    assert all(connection == connections[0] for connection in connections)
    connection = dict(connections[0])
    assert connection.pop("scheme") == "postgresql+psycopg2"
    # every connection field, the password above all, comes from the environment
    assert connection == {
        "username": {"env": "ORDERS_PG_USER"},
        "password": {"env": "ORDERS_PG_PASSWORD"},
        "hostname": {"env": "ORDERS_PG_HOST"},
        "port": {"env": "ORDERS_PG_PORT"},
        "db_name": {"env": "ORDERS_PG_DB"},
    }


def test_the_pooled_event_log_keeps_a_connection_and_stock_opens_one_per_write(monkeypatch):
    from sqlalchemy.pool import NullPool

    url = "postgresql+psycopg2://user:secret@127.0.0.1:1/db"  # never connected to
    monkeypatch.setenv("ORDERS_PG_EVENT_LOG_POOL", "true")
    pooled = PooledPostgresEventLogStorage(url, should_autocreate_tables=False)
    assert not isinstance(pooled._engine.pool, NullPool)
    monkeypatch.setenv("ORDERS_PG_EVENT_LOG_POOL", "false")
    stock = PooledPostgresEventLogStorage(url, should_autocreate_tables=False)
    assert isinstance(stock._engine.pool, NullPool)


def test_the_workspace_loads_the_code_location_from_the_code_server_on_loopback():
    [entry] = yaml.safe_load(WORKSPACE_YAML.read_text())["load_from"]
    assert entry == {
        "grpc_server": {
            "host": "127.0.0.1",
            "port": {"env": "ORDERS_CODE_SERVER_PORT"},
            "location_name": LOCATION_NAME,
        }
    }


def test_a_deployment_defaults_to_its_own_directory_ports_and_the_prod_target():
    deployment = Deployment.from_env({})
    assert deployment.root == REPO_ROOT / "data" / "prod"
    assert (deployment.pg_port, deployment.code_server_port, deployment.webserver_port) == (
        5433,
        4266,
        3000,
    )
    assert deployment.platform_env == {
        "ORDERS_WAREHOUSE": str(REPO_ROOT / "data" / "prod" / "warehouse.duckdb"),
        "ORDERS_LANDING_DIR": str(REPO_ROOT / "data" / "prod" / "landing"),
        "ORDERS_DBT_TARGET": "prod",
    }
    configured = Deployment.from_env(
        {"ORDERS_PROD_DIR": "/srv/orders", "ORDERS_PG_PORT": "6543", "ORDERS_DBT_TARGET": "dev"}
    )
    assert (configured.pg_data, configured.pg_port) == (Path("/srv/orders/postgres"), 6543)
    assert configured.platform_env["ORDERS_DBT_TARGET"] == "dev"


@pytest.mark.parametrize("value", ["54x3", "0", "70000"])
def test_a_malformed_port_is_refused_naming_its_variable(value):
    with pytest.raises(ValueError, match="ORDERS_WEBSERVER_PORT"):
        Deployment.from_env({"ORDERS_WEBSERVER_PORT": value})


def test_the_password_is_generated_once_into_a_file_only_its_owner_reads(tmp_path):
    deployment = Deployment.from_env({"ORDERS_PROD_DIR": str(tmp_path / "prod")})
    generated = deployment.password({})
    assert len(generated) >= 32
    assert stat.S_IMODE(deployment.password_file.stat().st_mode) == 0o600
    assert deployment.password({}) == generated  # the same on every start
    env = deployment.dagster_env({"PATH": "/usr/bin"})
    assert env["ORDERS_PG_PASSWORD"] == generated
    assert env["DAGSTER_HOME"] == str(tmp_path / "prod" / "dagster_home")


def test_alerts_link_to_the_deployments_own_ui_unless_told_otherwise(tmp_path):
    deployment = Deployment.from_env(
        {"ORDERS_PROD_DIR": str(tmp_path / "prod"), "ORDERS_WEBSERVER_PORT": "3999"}
    )
    secret = {"ORDERS_PG_PASSWORD": "x"}
    assert deployment.dagster_env(secret)["ORDERS_DAGSTER_UI_URL"] == "http://127.0.0.1:3999"
    proxied = {**secret, "ORDERS_DAGSTER_UI_URL": "https://dagster.example.com"}
    assert deployment.dagster_env(proxied)["ORDERS_DAGSTER_UI_URL"] == (
        "https://dagster.example.com"
    )


def test_a_password_from_the_environment_wins_and_is_never_written(tmp_path):
    deployment = Deployment.from_env({"ORDERS_PROD_DIR": str(tmp_path / "prod")})
    assert deployment.password({"ORDERS_PG_PASSWORD": "from-the-vault"}) == "from-the-vault"
    assert not deployment.password_file.exists()


def test_a_pid_file_naming_another_process_is_stale_never_that_process(tmp_path):
    """After a reboot a pid file may name a pid given to some other process since: the
    deployment must neither count it as its service nor ever signal it."""
    deployment = Deployment.from_env({"ORDERS_PROD_DIR": str(tmp_path / "prod")})
    daemon = service(deployment, "daemon")
    daemon.pid_file(deployment).parent.mkdir(parents=True)
    daemon.pid_file(deployment).write_text(str(os.getpid()))  # alive, but pytest
    assert pid_of(deployment, daemon) is None
    assert not daemon.pid_file(deployment).exists()
    assert stop_service(deployment, daemon) is False
