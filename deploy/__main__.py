"""`python -m deploy up|down|status|reload|backup|restore`: the production deployment's commands.

`up` starts PostgreSQL (creating the cluster, role and database on the first start), prepares
the Dagster instance on it, then the code server, the webserver and the daemon, each waited
for. `down` stops them in reverse order, then PostgreSQL. `reload` restarts only the code
server (after a code or dbt-manifest change). `status` says what runs. `backup` writes
Dagster's database and the warehouse into backups/<UTC time>/ (deploy/backup.py); `restore DIR`
puts one back on a stopped deployment and starts it. All but `restore` are safe to repeat.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from deploy import postgres
from deploy.backup import backup, restore
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
        duckdb.Error,  # the warehouse still locked when a backup gave up waiting
    ) as error:
        sys.exit(f"deploy: {error}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy", description=__doc__)
    parser.add_argument("command", choices=("up", "down", "status", "reload", "backup", "restore"))
    parser.add_argument("backup_dir", nargs="?", type=Path, help="restore: the backup")
    parser.add_argument(
        "--force",
        action="store_true",
        help="down, reload: end the runs in progress (marked failed) instead of refusing",
    )
    options = parser.parse_args(argv)
    command = options.command
    deployment = Deployment.from_env()
    with _reported():
        if command == "status":
            return status(deployment)
        if command == "backup":
            print(f"backup: {backup(deployment)}")
            return 0
        if command == "restore":
            if options.backup_dir is None:
                parser.error("restore needs the backup's directory")
            restore(deployment, options.backup_dir)
            print(f"restored {options.backup_dir}")
            up(deployment)
            return 0
        if command == "up":
            up(deployment)
        else:
            {"down": down, "reload": reload}[command](deployment, force=options.force)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
