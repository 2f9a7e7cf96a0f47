"""`python -m deploy up|down|status|reload`: the production deployment's commands.

`up` starts PostgreSQL (creating the cluster, role and database on the first start), prepares
the Dagster instance on it, then the code server, the webserver and the daemon, each waited
for. `down` stops them in reverse order, then PostgreSQL. `reload` restarts only the code
server (after a code or dbt-manifest change). `status` says what runs. Each is safe to repeat.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager

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


def up(deployment: Deployment) -> None:
    """Start everything not yet running; PostgreSQL first, the daemon last."""
    env = deployment.dagster_env()
    if postgres.init(deployment):
        print(f"PostgreSQL: created the cluster in {deployment.pg_data}")
    postgres.start(deployment)
    postgres.ensure_role_and_database(deployment, env["ORDERS_PG_PASSWORD"])
    print(f"PostgreSQL: 127.0.0.1:{deployment.pg_port}, database {deployment.pg_db}")
    prepare_instance(deployment, env)
    for svc in services(deployment):
        pid = start_service(deployment, svc, env)
        print(f"{svc.name}: pid {pid}, log {svc.log_file(deployment)}")
    print(f"Dagster UI: {deployment.webserver_url}")


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


@contextmanager
def _reported() -> Iterator[None]:
    """A failure ends the command with its message (the logs hold the details)."""
    try:
        yield
    except (postgres.PostgresError, RuntimeError, TimeoutError) as error:
        sys.exit(f"deploy: {error}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy", description=__doc__)
    parser.add_argument("command", choices=("up", "down", "status", "reload"))
    command = parser.parse_args(argv).command
    deployment = Deployment.from_env()
    with _reported():
        if command == "status":
            return status(deployment)
        {"up": up, "down": down, "reload": reload}[command](deployment)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
