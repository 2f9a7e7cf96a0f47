"""Follow the debug log of the dbt invocation a Dagster run starts, as it is written.

dagster-dbt gives every invocation its own target directory,
`$DBT_TARGET_PATH/<op name>-<first 7 characters of the run id>-<random>/`, and dbt writes its JSON
debug log (`dbt.log`) there. Fault tests read it to act at a precise point of the build
(a model started, committed, a statement issued) and to check the SQL dbt sent.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orders_platform.settings import DBT_PROJECT_DIR

DAILY_OP = "orders_daily_dbt_models"


def invocation_dirs(op_name: str, run_id: str) -> list[Path]:
    """The target directories of a run's dbt invocations, whichever worker ran it (a shared
    snapshot may have been built by another xdist worker, under `dbt/target/<worker>/`)."""
    pattern = f"{op_name}-{run_id[:7]}-*"
    root = DBT_PROJECT_DIR / "target"
    return sorted([*root.glob(pattern), *root.glob(f"*/{pattern}")])


@dataclass
class DbtDebugLog:
    run_id: str
    op_name: str = DAILY_OP
    offset: int = 0
    partial: bytes = b""
    events: list[dict[str, Any]] = field(default_factory=list)

    found: Path | None = None

    def path(self) -> Path | None:
        """The log's path, looked up until it exists (a glob over every target directory is
        too slow to repeat on each poll of a test that must act within a second)."""
        if self.found is None:
            logs = [d / "dbt.log" for d in invocation_dirs(self.op_name, self.run_id)]
            self.found = next((log for log in logs if log.exists()), None)
        return self.found

    def poll(self) -> list[dict[str, Any]]:
        """Every complete event logged so far (reads only what was added since last time)."""
        path = self.path()
        if path is None:
            return self.events
        with path.open("rb") as log:
            log.seek(self.offset)
            chunk = log.read()
        self.offset += len(chunk)
        *lines, self.partial = (self.partial + chunk).split(b"\n")
        self.events.extend(json.loads(line) for line in lines if line.strip())
        return self.events


def node(event: dict[str, Any]) -> str:
    """The name of the model or test an event is about ("" for invocation-wide events)."""
    return (event["data"].get("node_info") or {}).get("node_name", "")


def statements(run_id: str, model: str) -> list[str]:
    """The SQL dbt sent for `model` (BEGIN, COMMIT and everything between), in order."""
    return [
        event["data"]["sql"]
        for event in DbtDebugLog(run_id).poll()
        if event["info"]["name"] == "SQLQuery" and node(event) == model
    ]
