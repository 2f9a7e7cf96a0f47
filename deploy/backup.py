"""A backup of the running deployment: Dagster's database and the warehouse, side by side.

The warehouse file is copied while this process holds it open read-only. DuckDB lets no
writer open a file another process has open, so for the length of the copy no run writes
it: a run between steps waits for the lock (its steps retry the open for about five
minutes), and a run inside a step is waited for before the copy starts. The copy is
therefore a state between two writes, which is a state a crash could also leave (every step
leaves the tables whole), and re-merging the last days after a restore converges. The
published per-day versions beside the file are copied under the same hold, and Dagster's
database is dumped (`pg_dump`, custom format) under it too. `restore` puts both back.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from deploy import postgres
from deploy.config import Deployment
from deploy.services import pid_of, services
from orders_platform.resources.warehouse import connect_warehouse

# Longer than the longest step a run holds the warehouse for at our volume (a 14-day
# re-merge's dbt build), so a backup started mid-step waits for it instead of failing.
LOCK_TIMEOUT_SECONDS = 900


def warehouse_files(deployment: Deployment) -> dict[str, Path]:
    """The warehouse's files by their name in a backup: the DuckDB file, its write-ahead log
    (left only by a writer that died) and the published per-day versions beside it
    (`orders_platform.ingestion.landed_days.published_versions_path`, on DuckDB)."""
    warehouse = Path(deployment.platform_env["ORDERS_WAREHOUSE"])
    return {
        "warehouse.duckdb": warehouse,
        "warehouse.duckdb.wal": Path(f"{warehouse}.wal"),
        "warehouse.landing_days.json": warehouse.with_suffix(".landing_days.json"),
    }


def backup(deployment: Deployment) -> Path:
    """Write `dagster.dump` and the warehouse's files into the deployment's
    backups/<UTC time>/. Returns that directory."""
    if not postgres.is_running(deployment):
        raise RuntimeError("PostgreSQL is not running: start the deployment (make prod-up)")
    files = warehouse_files(deployment)
    if not files["warehouse.duckdb"].exists():
        raise RuntimeError(f"no warehouse at {files['warehouse.duckdb']} yet: nothing to back up")
    target = deployment.root / "backups" / time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    target.mkdir(parents=True, exist_ok=False)
    with connect_warehouse(
        files["warehouse.duckdb"], read_only=True, lock_timeout_seconds=LOCK_TIMEOUT_SECONDS
    ):
        for name, path in files.items():
            if path.exists():
                shutil.copy2(path, target / name)
        with (target / "dagster.dump").open("wb") as dump:
            subprocess.run(postgres.pg_dump_command(deployment), stdout=dump, check=True)
    return target


def restore(deployment: Deployment, source: Path) -> None:
    """Put a backup back while Dagster's processes are stopped: Dagster's database from the
    dump in one transaction (PostgreSQL is started for it), and the warehouse's files (a
    live file the backup does not have, such as a write-ahead log, is removed: replayed
    onto the restored file it would corrupt it). The caller then starts the deployment."""
    running = [svc.name for svc in services(deployment) if pid_of(deployment, svc) is not None]
    if running:
        raise RuntimeError(f"{', '.join(running)} running: stop the deployment first")
    dump = source / "dagster.dump"
    if not dump.is_file() or not (source / "warehouse.duckdb").is_file():
        raise RuntimeError(f"{source} holds no backup (dagster.dump, warehouse.duckdb)")
    postgres.start(deployment)
    with dump.open("rb") as stdin:
        subprocess.run(postgres.pg_restore_command(deployment), stdin=stdin, check=True)
    for name, path in warehouse_files(deployment).items():
        if (source / name).exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / name, path)
        else:
            path.unlink(missing_ok=True)
