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
from deploy.runs import deployment_instance, mark_ended, refuse_or_note
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


def _stop_code_server_and(
    deployment: Deployment, env: Mapping[str, str], names: list[str], force: bool, action: str
) -> None:
    """Stop the named services in order (the code server among them), refusing while runs
    are in progress unless `force`; runs the stop ended are marked failed (deploy/runs.py)."""
    in_progress: list[str] = []
    code_server = service(deployment, "code-server")
    if pid_of(deployment, code_server) is not None and postgres.is_running(deployment):
        with deployment_instance(deployment, env) as instance:
            in_progress = refuse_or_note(instance, force, action)
    for name in names:
        if stop_service(deployment, service(deployment, name)):
            print(f"{name}: stopped")
    if in_progress:
        with deployment_instance(deployment, env) as instance:
            mark_ended(instance, in_progress, action)
        print(f"{len(in_progress)} run(s) in progress ended and marked failed")


def down(deployment: Deployment, force: bool = False) -> None:
    """Stop the daemon first (no new runs), then the webserver, the code server and
    PostgreSQL. Refused while runs are in progress unless `force`."""
    names = [svc.name for svc in reversed(services(deployment))]
    _stop_code_server_and(deployment, deployment.dagster_env(), names, force, "make prod-down")
    postgres.stop(deployment)
    print("PostgreSQL: stopped")


def reload(deployment: Deployment, force: bool = False) -> None:
    """Restart the code server on its port, so the webserver and the daemon load the new
    code from it; PostgreSQL, the webserver and the daemon keep running. Refused while
    runs are in progress unless `force`."""
    env = deployment.dagster_env()
    _stop_code_server_and(deployment, env, ["code-server"], force, "make prod-reload")
    pid = start_service(deployment, service(deployment, "code-server"), env)
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
