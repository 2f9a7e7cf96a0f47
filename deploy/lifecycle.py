"""Bringing the deployment up and down, and restarting its code server.

What `python -m deploy` runs, in functions the end-to-end test calls too, so the test's
deployment starts exactly as `make prod-up` starts one. `up` is `start_postgres` then
`start_dagster`: the test puts its history into the instance between the two, before any
sensor runs. Each step is a no-op for what already runs.
"""

from __future__ import annotations

from collections.abc import Mapping

from deploy import postgres
from deploy.config import Deployment
from deploy.services import (
    pid_of,
    prepare_instance,
    reload_location,
    service,
    services,
    start_service,
    stop_service,
)


def start_postgres(deployment: Deployment, env: Mapping[str, str]) -> None:
    """Create the cluster on the first start, start it, ensure Dagster's role (with the
    password in `env`) and database, and bring the instance's schema up to date."""
    if postgres.init(deployment):
        print(f"PostgreSQL: created the cluster in {deployment.pg_data}")
    postgres.start(deployment)
    postgres.ensure_role_and_database(deployment, env["ORDERS_PG_PASSWORD"])
    print(f"PostgreSQL: 127.0.0.1:{deployment.pg_port}, database {deployment.pg_db}")
    prepare_instance(deployment, env)


def start_dagster(deployment: Deployment, env: Mapping[str, str]) -> None:
    """The code server, then the webserver and the daemon that load the code from it."""
    for svc in services(deployment):
        pid = start_service(deployment, svc, env)
        print(f"{svc.name}: pid {pid}, log {svc.log_file(deployment)}")
    print(f"Dagster UI: {deployment.webserver_url}")


def up(deployment: Deployment, env: Mapping[str, str] | None = None) -> None:
    """Start everything not yet running; PostgreSQL first, the daemon last. `env`: the
    Dagster processes' environment (default: `deployment.dagster_env()`)."""
    env = deployment.dagster_env() if env is None else env
    start_postgres(deployment, env)
    start_dagster(deployment, env)


def down(deployment: Deployment) -> None:
    """Stop the daemon first (no new runs), then the webserver, the code server (which ends
    the runs it launched) and PostgreSQL."""
    for svc in reversed(services(deployment)):
        if stop_service(deployment, svc):
            print(f"{svc.name}: stopped")
    postgres.stop(deployment)
    print("PostgreSQL: stopped")


def reload(deployment: Deployment) -> None:
    """Restart the code server on its port, so the webserver and the daemon load the new
    code from it; PostgreSQL, the webserver and the daemon keep running."""
    code_server = service(deployment, "code-server")
    stop_service(deployment, code_server)
    pid = start_service(deployment, code_server, deployment.dagster_env())
    reload_location(deployment)
    print(f"code-server: restarted, pid {pid}")


def status(deployment: Deployment) -> int:
    """Print what runs; exit status 0 only when everything does."""
    running = {"postgres": postgres.is_running(deployment)}
    running.update({svc.name: pid_of(deployment, svc) is not None for svc in services(deployment)})
    for name, alive in running.items():
        print(f"{name:12} {'running' if alive else 'stopped'}")
    if running["webserver"]:
        print(f"Dagster UI: {deployment.webserver_url}")
    return 0 if all(running.values()) else 1
