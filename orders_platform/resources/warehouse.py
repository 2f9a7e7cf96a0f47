"""Short-lived, lock-aware connections to the warehouse, and the one way readers open it.

DuckDB lets one process write a database file at a time, and any other process (even a
read-only one) fails at once with "Could not set lock on file" while it does. Writers are
serialized by the `duckdb_writer` pool; this module handles the rest: connections are
opened only for the work at hand and closed right after, and opening waits (with backoff)
for a lock held by another process instead of failing the run.

`WarehouseResource` is `dagster_duckdb.DuckDBResource` (its `database`, `connection_config`
and `get_connection()`), with connections opened by `connect_warehouse`, the one lock-wait
loop, which plain callers outside Dagster use too. DuckDBResource's own retry does not
serve: it always opens read-write, so a reader would need the writer's lock, and it gives
up after ten retries (about 100 s) on any I/O error, not only a held lock.

Readers open the warehouse of the configured engine with `read_warehouse`: the DuckDB file,
or on Spark its parquet files, read without Spark (`orders_platform.resources.spark_catalog`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
from dagster_duckdb import DuckDBResource
from pydantic import Field

from orders_platform import settings
from orders_platform.resources.spark_catalog import spark_parquet_views

# The pool every asset that writes the warehouse file belongs to (limit 1, see dagster.yaml).
WRITER_POOL = "duckdb_writer"

DEFAULT_LOCK_TIMEOUT_SECONDS = 300.0
# Backoff between attempts to open a file another process holds: doubling, capped so a
# reader starts within ~2 s of the writer letting go even after a long wait.
_FIRST_DELAY_SECONDS = 0.05
_MAX_DELAY_SECONDS = 2.0
_LOCK_ERROR = "Could not set lock"


@contextmanager
def connect_warehouse(
    path: Path,
    *,
    read_only: bool = False,
    lock_timeout_seconds: float = DEFAULT_LOCK_TIMEOUT_SECONDS,
    config: Mapping[str, Any] | None = None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse in UTC, waiting up to `lock_timeout_seconds` for another process.

    Only a lock held by another process is waited for; any other error (a missing file for
    a reader, a bad `config`) fails at once. `config` is DuckDB's connection configuration
    (`WarehouseResource.connection_config`): DuckDB refuses a second connection to a file
    in one process with a different one, so plain callers leave it unset.
    """
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + lock_timeout_seconds
    delay = _FIRST_DELAY_SECONDS
    while True:
        try:
            conn = duckdb.connect(str(path), read_only=read_only, config=dict(config or {}))
            break
        except duckdb.IOException as error:
            if _LOCK_ERROR not in str(error) or time.monotonic() >= deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, _MAX_DELAY_SECONDS)
    try:
        # timestamps with a time zone read and print in UTC whatever the machine's zone
        conn.execute("set TimeZone = 'UTC'")
        yield conn
    finally:
        conn.close()


@contextmanager
def read_warehouse(
    path: Path | None = None,
    *,
    lock_timeout_seconds: float = DEFAULT_LOCK_TIMEOUT_SECONDS,
    config: Mapping[str, Any] | None = None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only DuckDB connection to the warehouse of the configured engine.

    DuckDB (`ORDERS_ENGINE=duckdb`): the file at `path` (default `ORDERS_WAREHOUSE`), opened
    read-only, waiting for a writer's lock. Spark: views over the parquet files under
    `ORDERS_SPARK_WAREHOUSE` (`orders_platform.resources.spark_catalog`); `path` and
    `config` are not used.
    """
    if settings.engine() == "spark":
        with spark_parquet_views(settings.spark_warehouse()) as conn:
            yield conn
        return
    with connect_warehouse(
        path or settings.warehouse_path(),
        read_only=True,
        lock_timeout_seconds=lock_timeout_seconds,
        config=config,
    ) as conn:
        yield conn


class WarehouseResource(DuckDBResource):
    """The DuckDB warehouse file; `database` defaults to `ORDERS_WAREHOUSE` read at use time.

    `get_connection()` is DuckDBResource's, opened by `connect_warehouse`: read-only when
    asked (a reader never needs the writer's lock), in UTC, and waiting up to
    `lock_timeout_seconds` for another process's lock.
    """

    database: str = Field(
        default="",
        description=(
            "DuckDB file; empty means ORDERS_WAREHOUSE when a connection is opened, else "
            "data/warehouse.duckdb. Relative paths are read from the repository root."
        ),
    )
    lock_timeout_seconds: float = Field(
        default=DEFAULT_LOCK_TIMEOUT_SECONDS,
        description="How long to wait for another process's lock on the file.",
    )

    def database_path(self) -> Path:
        """Resolved on every use, so a changed ORDERS_WAREHOUSE applies to the next run."""
        return settings.resolve_path(self.database) if self.database else settings.warehouse_path()

    @contextmanager
    def get_connection(self, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection to the DuckDB file, closed when the block ends (even on error)."""
        with connect_warehouse(
            self.database_path(),
            read_only=read_only,
            lock_timeout_seconds=self.lock_timeout_seconds,
            config=self.connection_config,
        ) as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Read the warehouse of the configured engine (`read_warehouse`)."""
        with read_warehouse(
            self.database_path(),
            lock_timeout_seconds=self.lock_timeout_seconds,
            config=self.connection_config,
        ) as conn:
            yield conn
