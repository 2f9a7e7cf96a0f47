"""Short-lived, lock-aware connections to the warehouse, and the one way readers open it.

DuckDB lets one process write a database file at a time, and any other process (even a
read-only one) fails at once with "Could not set lock on file" while it does. Writers are
serialized by the `duckdb_writer` pool; this module handles the rest: connections are
opened only for the work at hand and closed right after, and opening waits (with backoff)
for a lock held by another process instead of failing the run.

Readers open the warehouse of the configured engine with `read_warehouse`: the DuckDB file,
or on Spark its parquet files, read without Spark (`orders_platform.resources.spark_catalog`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from dagster import ConfigurableResource
from pydantic import Field

from orders_platform import settings
from orders_platform.resources.spark_catalog import spark_parquet_views

# The pool every asset that writes the warehouse file belongs to (limit 1, see dagster.yaml).
WRITER_POOL = "duckdb_writer"

_LOCK_ERROR = "Could not set lock"


@contextmanager
def connect_warehouse(
    path: Path, *, read_only: bool = False, lock_timeout_seconds: float = 300.0
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse in UTC, waiting up to `lock_timeout_seconds` for another process."""
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + lock_timeout_seconds
    delay = 0.05
    while True:
        try:
            conn = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as error:
            if _LOCK_ERROR not in str(error) or time.monotonic() >= deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
    try:
        conn.execute("set TimeZone = 'UTC'")
        yield conn
    finally:
        conn.close()


@contextmanager
def read_warehouse(
    path: Path | None = None, *, lock_timeout_seconds: float = 300.0
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only DuckDB connection to the warehouse of the configured engine.

    DuckDB (`ORDERS_ENGINE=duckdb`): the file at `path` (default `ORDERS_WAREHOUSE`), opened
    read-only, waiting for a writer's lock. Spark: views over the parquet files under
    `ORDERS_SPARK_WAREHOUSE` (`orders_platform.resources.spark_catalog`); `path` is not used.
    """
    if settings.engine() == "spark":
        with spark_parquet_views(settings.spark_warehouse()) as conn:
            yield conn
        return
    with connect_warehouse(
        path or settings.warehouse_path(),
        read_only=True,
        lock_timeout_seconds=lock_timeout_seconds,
    ) as conn:
        yield conn


class WarehouseResource(ConfigurableResource):
    """The DuckDB warehouse file; `path` defaults to `ORDERS_WAREHOUSE` read at run time."""

    path: str | None = Field(
        default=None,
        description="DuckDB file; unset means ORDERS_WAREHOUSE, else data/warehouse.duckdb.",
    )
    lock_timeout_seconds: float = Field(
        default=300.0, description="How long to wait for another process's lock on the file."
    )

    def database_path(self) -> Path:
        return settings.resolve_path(self.path) if self.path else settings.warehouse_path()

    @contextmanager
    def connect(self, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        with connect_warehouse(
            self.database_path(),
            read_only=read_only,
            lock_timeout_seconds=self.lock_timeout_seconds,
        ) as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Read the warehouse of the configured engine (`read_warehouse`)."""
        with read_warehouse(
            self.database_path(), lock_timeout_seconds=self.lock_timeout_seconds
        ) as conn:
            yield conn
