"""Spark's tables read without Spark: DuckDB views over the parquet files in its warehouse.

Readers never start Spark: its embedded Derby metastore admits one JVM at a time, and the
ingestion step or dbt may hold it. Each table directory becomes a view over its committed
files as they are now, with Spark's UTC instants shown as naive UTC, as on DuckDB.

A table with no committed file has no columns to read. This reader knows no table of its
own, so such a table has a view only when the caller names its columns (`empty_tables`):
ingestion, which owns its tables, does when it reads them back.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import duckdb

from orders_platform.resources.spark import SPARK_DATABASE

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
    conn: duckdb.DuckDBPyConnection, schema: str, table: str, table_dir: Path, files: list[str]
) -> None:
    """A view of one Spark table over its `files` (DuckDB views take no bound parameters, so
    the file names are quoted as SQL text; table and column names are checked identifiers)."""
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


def _create_empty_view(
    conn: duckdb.DuckDBPyConnection, schema: str, table: str, columns: Mapping[str, str]
) -> None:
    """A table with no rows yet, typed empty by the columns its caller declared."""
    typed_nulls = ", ".join(f"cast(null as {t}) as {_sql_name(c)}" for c, t in columns.items())
    conn.execute(f"create schema if not exists {_sql_name(schema)}")
    conn.execute(
        f"create or replace view {_sql_name(schema)}.{_sql_name(table)} as "
        f"select {typed_nulls} where false"
    )


@contextmanager
def spark_parquet_views(
    warehouse: Path, empty_tables: Mapping[str, Mapping[str, str]] | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB (UTC) with a view per Spark table under `warehouse`.

    `empty_tables`: column name -> type, for tables of the platform's database
    (`SPARK_DATABASE`) that may have no file yet; each reads as empty until it has one.
    """
    declared = empty_tables or {}
    conn = duckdb.connect(":memory:")
    try:
        conn.execute("set TimeZone = 'UTC'")
        for schema, table, table_dir in _spark_tables(warehouse):
            files = _data_files(table_dir)
            if files:
                _create_parquet_view(conn, schema, table, table_dir, files)
            elif schema == SPARK_DATABASE and table in declared:
                _create_empty_view(conn, schema, table, declared[table])
        conn.execute("use memory.main")
        yield conn
    finally:
        conn.close()
