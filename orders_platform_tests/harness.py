"""A throwaway platform for tests: its own warehouse file, landing dir and Dagster instance.

Everything real: DuckDB files, the dbt subprocess, Dagster execution. Only the paths (from
the environment, as in production) and the arrival clock (an explicit `ingested_at`)
are chosen by the test.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dagster import AssetCheckEvaluation, DagsterEventType, DagsterInstance, ExecuteInProcessResult
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)

from orders_platform.definitions import defs
from orders_platform.ingestion.landed_days import record_day_versions
from orders_platform.ingestion.load_steps import LoadReport
from orders_platform.ingestion.loader import load_new_files
from orders_platform.resources.warehouse import connect_warehouse
from orders_platform.settings import REPO_ROOT
from orders_platform_tests.fixtures.late_events import LandingFile, write_files

# Audit columns say when a row was last merged; content checksums leave them out.
AUDIT_COLUMNS = ("merged_at",)


@dataclass
class Platform:
    root: Path
    instance: DagsterInstance

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with connect_warehouse(self.warehouse) as conn:
            yield conn

    def land(self, files: list[LandingFile]) -> list[LoadReport]:
        """Drop each file in the landing zone and load it at its own arrival time, recording
        the touched days in Dagster exactly as the ingestion asset does."""
        reports = []
        for landing_file in files:
            write_files([landing_file], self.landing)
            with self.connect() as conn:
                report = load_new_files(conn, self.landing, ingested_at=landing_file.arrived_at)
                versions = dict(
                    conn.execute("select order_date, version from orders_landing_days").fetchall()
                )
            record_day_versions(self.instance, versions, report.touched_days)
            reports.append(report)
        return reports

    def run_job(
        self, name: str, *, tags: dict[str, str] | None = None, **kwargs: Any
    ) -> ExecuteInProcessResult:
        job = defs.resolve_job_def(name)
        return job.execute_in_process(instance=self.instance, tags=tags or {}, **kwargs)

    def run_range(
        self, job: str, first_day: str, last_day: str, **kwargs: Any
    ) -> ExecuteInProcessResult:
        """One run of `job` over a partition range, tagged as backfills and the schedule do."""
        return self.run_job(
            job,
            tags={
                ASSET_PARTITION_RANGE_START_TAG: first_day,
                ASSET_PARTITION_RANGE_END_TAG: last_day,
            },
            **kwargs,
        )

    def remerge(self, first_day: str, last_day: str, **kwargs: Any) -> ExecuteInProcessResult:
        """Re-merge a partition range as one run, the way backfills and the schedule do."""
        return self.run_range("orders_daily_job", first_day, last_day, **kwargs)

    def record_history(
        self, first_day: str, last_day: str, **kwargs: Any
    ) -> ExecuteInProcessResult:
        """The order history of a range, after its re-merge: automation's next run, which
        links the revisions to their orders and sends the revision notice."""
        return self.run_range("orders_history_job", first_day, last_day, **kwargs)

    def profile_lateness(
        self, first_day: str, last_day: str, **kwargs: Any
    ) -> ExecuteInProcessResult:
        """Build the lateness reports of a partition range, as automation does after a re-merge."""
        return self.run_range("orders_lateness_job", first_day, last_day, **kwargs)

    def check_evaluations(self, run_id: str) -> list[AssetCheckEvaluation]:
        """The asset check results a run recorded, read back from the instance."""
        records = self.instance.get_records_for_run(
            run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION, limit=10_000
        ).records
        return [record.event_log_entry.dagster_event.event_specific_data for record in records]

    def rows(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with self.connect() as conn:
            return conn.execute(sql, params or []).fetchall()

    def checksum(self, table: str) -> str:
        """A content hash of `table`, independent of row order and audit columns."""
        with self.connect() as conn:
            rows = table_rows(conn, table)
        return hashlib.sha256(repr(rows).encode()).hexdigest()


def table_rows(
    conn: duckdb.DuckDBPyConnection, table: str, leave_out: tuple[str, ...] = AUDIT_COLUMNS
) -> list[tuple[Any, ...]]:
    """All rows of `table` except the `leave_out` columns, sorted."""
    columns = [
        name
        for (name,) in conn.execute(
            "select column_name from information_schema.columns "
            "where table_name = ? order by ordinal_position",
            [table],
        ).fetchall()
        if name not in leave_out
    ]
    return conn.execute(f"select {', '.join(columns)} from {table} order by all").fetchall()


def _instance(root: Path, *, persistent: bool) -> DagsterInstance:
    """An in-memory instance, or one kept in `root/dagster_home` (so the whole platform
    directory can be copied) with the project's dagster.yaml."""
    if not persistent:
        return DagsterInstance.ephemeral()
    home = root / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        shutil.copy(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    return DagsterInstance.from_config(str(home))


@contextmanager
def platform_at(root: Path, *, persistent: bool = False) -> Iterator[Platform]:
    """Point the platform's environment at `root` for the duration of the block."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ORDERS_ENGINE", "duckdb")  # also inside a Spark platform's block
        mp.setenv("ORDERS_WAREHOUSE", str(root / "warehouse.duckdb"))
        mp.setenv("ORDERS_LANDING_DIR", str(root / "landing"))
        mp.setenv("ORDERS_DBT_TARGET", "dev")
        mp.setenv("DO_NOT_TRACK", "1")
        with _instance(root, persistent=persistent) as instance:
            yield Platform(root=root, instance=instance)


class Receiver:
    """A local Slack-compatible webhook that records what it is sent.

    `answers` are the HTTP statuses of the first requests, in order (a 429 comes with
    `Retry-After: 0`); every later request is answered 200. `requests` counts every POST,
    `messages` holds the texts of those answered 2xx.
    """

    def __init__(self, answers: tuple[int, ...] = ()) -> None:
        self.messages: list[str] = []
        self.requests = 0
        pending = list(answers)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests += 1
                status = pending.pop(0) if pending else 200
                if 200 <= status <= 299:
                    receiver.messages.append(json.loads(body)["text"])
                self.send_response(status)
                if status == 429:
                    self.send_header("Retry-After", "0")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
