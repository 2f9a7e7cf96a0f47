"""`python -m deploy up|down|status|reload`: the production deployment's commands.

`up` starts PostgreSQL (creating the cluster, role and database on the first start), prepares
the Dagster instance on it, then the code server, the webserver and the daemon, each waited
for. `down` stops them in reverse order, then PostgreSQL. `reload` restarts only the code
server (after a code or dbt-manifest change). `status` says what runs. `backup` writes
Dagster's database and the warehouse into backups/<UTC time>/ (deploy/backup.py). Each is safe
to repeat.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from deploy import postgres
from deploy.backup import backup
from deploy.config import Deployment
from deploy.lifecycle import down, reload, status, up


@contextmanager
def _reported() -> Iterator[None]:
    """A failure ends the command with its message (the logs hold the details)."""
    try:
        yield
    except (
        postgres.PostgresError,
        RuntimeError,
        TimeoutError,
        subprocess.CalledProcessError,
    ) as error:
        sys.exit(f"deploy: {error}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy", description=__doc__)
    parser.add_argument("command", choices=("up", "down", "status", "reload", "backup"))
    command = parser.parse_args(argv).command
    deployment = Deployment.from_env()
    with _reported():
        if command == "status":
            return status(deployment)
        if command == "backup":
            print(f"backup: {backup(deployment)}")
            return 0
        {"up": up, "down": down, "reload": reload}[command](deployment)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
