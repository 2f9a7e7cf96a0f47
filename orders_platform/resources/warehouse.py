"""Short-lived, lock-aware connections to the warehouse, and the one way readers open it.

DuckDB lets one process write a database file at a time, and any other process (even a
read-only one) fails at once with "Could not set lock on file" while it does. Writers are
serialized by the `duckdb_writer` pool; this module handles the rest: connections are
opened only for the work at hand and closed right after, and opening waits (with backoff)
for a lock held by another process instead of failing the run.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from dagster import ConfigurableResource
from pydantic import Field

from orders_platform import settings

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


# Spark keeps a database's tables in `<database>.db/<table>/` under its warehouse directory
# (`default`'s directly in it); a partition is a `<column>=<value>` directory.
_DATABASE_DIR_SUFFIX = ".db"
_PARTITION_DIR = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _data_files(table_dir: Path) -> list[str]:
    """A table's committed parquet files (not a running write's `_temporary`/`.staging`)."""
    return sorted(
        str(path)
        for path in table_dir.rglob("*.parquet")
        if not any(part.startswith(("_", ".")) for part in path.relative_to(table_dir).parts)
    )


def _partition_types(files: list[str], table_dir: Path) -> dict[str, str]:
    """Partition columns typed by name: `*_date` is a date, anything else text.

    DuckDB would otherwise guess each type from the values, and a text id made only of
    digits would change the column's type from one load to the next.
    """
    columns = {
        match.group(1)
        for file in files
        for part in Path(file).relative_to(table_dir).parts[:-1]
        if (match := _PARTITION_DIR.match(part))
    }
    return {c: "date" if c.endswith("_date") else "varchar" for c in sorted(columns)}


def _spark_tables(warehouse: Path) -> Iterator[tuple[str, str, Path]]:
    """(schema, table, directory) of every Spark table with a directory in `warehouse`."""
    if not warehouse.is_dir():
        return
    for database_dir in sorted(warehouse.iterdir()):
        if database_dir.is_dir() and database_dir.name.endswith(_DATABASE_DIR_SUFFIX):
            schema = database_dir.name.removesuffix(_DATABASE_DIR_SUFFIX)
            for table_dir in sorted(database_dir.iterdir()):
                if table_dir.is_dir() and _IDENTIFIER.match(table_dir.name):
                    yield schema, table_dir.name, table_dir


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _sql_name(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def _create_parquet_view(
    conn: duckdb.DuckDBPyConnection, schema: str, table: str, table_dir: Path
) -> None:
    """A view of one Spark table over its files as they are now (DuckDB views take no bound
    parameters, so the file names are quoted as SQL text; table and column names are checked
    identifiers)."""
    files = _data_files(table_dir)
    if not files:
        _create_empty_view(conn, schema, table)
        return
    hive_types = _partition_types(files, table_dir)
    typed = ", ".join(f"{_sql_text(name)}: {_sql_text(t)}" for name, t in hive_types.items())
    source = (
        f"read_parquet([{', '.join(map(_sql_text, files))}], hive_partitioning = true, "
        "union_by_name = true" + (f", hive_types = {{{typed}}})" if typed else ")")
    )
    described = conn.execute(f"describe select * from {source}").fetchall()  # noqa: S608
    # Spark writes its TIMESTAMP type as UTC instants; the warehouse's time is naive UTC.
    columns = [
        f"cast({_sql_name(name)} as timestamp) as {_sql_name(name)}"
        if sql_type.startswith("TIMESTAMP WITH TIME ZONE")
        else _sql_name(name)
        for name, sql_type, *_ in described
    ]
    conn.execute(f"create schema if not exists {_sql_name(schema)}")
    conn.execute(
        f"create or replace view {_sql_name(schema)}.{_sql_name(table)} as "  # noqa: S608
        f"select {', '.join(columns)} from {source}"
    )


def _create_empty_view(conn: duckdb.DuckDBPyConnection, schema: str, table: str) -> None:
    """An ingestion table with no rows yet has no files to read; its view is typed empty."""
    from orders_platform.ingestion.spark_schema import SPARK_TABLES
    from orders_platform.resources.spark import SPARK_DATABASE

    if schema != SPARK_DATABASE or table not in SPARK_TABLES:
        return
    columns, _ = SPARK_TABLES[table]
    typed_nulls = ", ".join(f"cast(null as {t}) as {_sql_name(c)}" for c, t in columns.items())
    conn.execute(f"create schema if not exists {_sql_name(schema)}")
    conn.execute(
        f"create or replace view {_sql_name(schema)}.{_sql_name(table)} as "
        f"select {typed_nulls} where false"
    )


@contextmanager
def spark_parquet_views(warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB (UTC) with a view per Spark table under `warehouse`."""
    conn = duckdb.connect(":memory:")
    try:
        conn.execute("set TimeZone = 'UTC'")
        for schema, table, table_dir in _spark_tables(warehouse):
            _create_parquet_view(conn, schema, table, table_dir)
        conn.execute("use memory.main")
        yield conn
    finally:
        conn.close()


@contextmanager
def read_warehouse(
    path: Path | None = None, *, lock_timeout_seconds: float = 300.0
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only DuckDB connection to the warehouse of the configured engine.

    DuckDB (`ORDERS_ENGINE=duckdb`): the file at `path` (default `ORDERS_WAREHOUSE`), opened
    read-only, waiting for a writer's lock. Spark: parquet views over `ORDERS_SPARK_WAREHOUSE`
    (see the module doc); `path` is not used.
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
