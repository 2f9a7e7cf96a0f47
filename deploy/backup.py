"""A backup of the running deployment: Dagster's database and the warehouse, side by side.

The warehouse file is copied while this process holds it open read-only. DuckDB lets no
writer open a file another process has open, so for the length of the copy no run writes
it: a run between steps waits for the lock (its steps retry the open for about five
minutes), and a run inside a step is waited for before the copy starts. The copy is
therefore a state between two writes, which is a state a crash could also leave (every step
leaves the tables whole), and re-merging the last days after a restore converges. The
published per-day versions beside the file are copied under the same hold, and Dagster's
database is dumped (`pg_dump`, custom format) under it too.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from deploy import postgres
from deploy.config import Deployment
from orders_platform.resources.warehouse import connect_warehouse

# Longer than the longest step a run holds the warehouse for at our volume (a 14-day
# re-merge's dbt build), so a backup started mid-step waits for it instead of failing.
LOCK_TIMEOUT_SECONDS = 900


def backup(deployment: Deployment, into: Path | None = None) -> Path:
    """Write `dagster.dump`, the warehouse file and its published day versions into `into`
    (default: the deployment's backups/<UTC time>/). Returns the directory."""
    if not postgres.is_running(deployment):
        raise RuntimeError("PostgreSQL is not running: start the deployment (make prod-up)")
    target = into or deployment.root / "backups" / time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    target.mkdir(parents=True, exist_ok=False)
    warehouse = Path(deployment.platform_env["ORDERS_WAREHOUSE"])
    # the write-ahead log (only left by a writer that died) and the published day versions
    # (orders_platform.ingestion.landed_days.published_versions_path, on DuckDB)
    beside = (Path(f"{warehouse}.wal"), warehouse.with_suffix(".landing_days.json"))
    with connect_warehouse(warehouse, read_only=True, lock_timeout_seconds=LOCK_TIMEOUT_SECONDS):
        for path in (warehouse, *beside):
            if path.exists():
                shutil.copy2(path, target / path.name)
        with (target / "dagster.dump").open("wb") as dump:
            subprocess.run(postgres.pg_dump_command(deployment), stdout=dump, check=True)
    return target
