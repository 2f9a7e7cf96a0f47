"""The warehouse resource against real DuckDB files and a real second process.

DuckDB admits one writing process per file, and any other process, even a read-only one,
fails at once while it writes. These tests hold the lock in a child process and show that
a reader waits for it (and only for it), and that connections read time in UTC whatever the
machine's zone.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest

from orders_platform.resources.spark import SPARK_DATABASE
from orders_platform.resources.warehouse import WarehouseResource, connect_warehouse

HOLD_SECONDS = 1.0

# Opens the file (read-write, or read-only with "read_only"), says so, keeps it open for
# HOLD_SECONDS and exits; a writer first writes one last row, so a reader that sees that
# row opened the file after the lock was let go.
_HOLDER = """
import sys, time, duckdb
read_only = sys.argv[3] == "read_only"
conn = duckdb.connect(sys.argv[1], read_only=read_only)
print("holding", flush=True)
time.sleep(float(sys.argv[2]))
if not read_only:
    conn.execute("insert into marks values ('written before letting go')")
conn.close()
"""


@pytest.fixture
def warehouse_file(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute("create table marks (note varchar)")
    return path


@contextmanager
def held(path: Path, mode: str) -> Iterator[subprocess.Popen[str]]:
    """A child process with `path` open (`mode`: read_write or read_only) for HOLD_SECONDS."""
    child = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(path), str(HOLD_SECONDS), mode],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "holding"
        yield child
    finally:
        child.kill()
        child.wait()


@pytest.fixture
def writer_holding(warehouse_file: Path) -> Iterator[subprocess.Popen[str]]:
    with held(warehouse_file, "read_write") as child:
        yield child


def _lock_error(path: Path) -> str:
    """What a plain read-only open says now ('' if it succeeds)."""
    try:
        duckdb.connect(str(path), read_only=True).close()
    except duckdb.IOException as error:
        return str(error)
    return ""


def test_a_reader_waits_for_a_writer_in_another_process_then_reads(
    warehouse_file, writer_holding, monkeypatch
):
    resource = WarehouseResource()
    # set after the resource exists: the file is the one ORDERS_WAREHOUSE names at use time
    monkeypatch.setenv("ORDERS_WAREHOUSE", str(warehouse_file))
    assert "Could not set lock" in _lock_error(warehouse_file), "the child holds no lock"
    started = time.monotonic()
    with resource.get_connection(read_only=True) as conn:
        waited = time.monotonic() - started
        notes = conn.execute("select note from marks").fetchall()
    assert notes == [("written before letting go",)]
    assert waited > HOLD_SECONDS / 2
    assert writer_holding.wait(timeout=10) == 0


def test_a_reader_needs_no_write_lock_so_it_opens_beside_another_reader(warehouse_file):
    resource = WarehouseResource(database=str(warehouse_file))
    with held(warehouse_file, "read_only") as other_reader:
        started = time.monotonic()
        with resource.read() as conn:
            assert conn.execute("select count(*) from marks").fetchone() == (0,)
        assert time.monotonic() - started < HOLD_SECONDS / 2
        assert other_reader.poll() is None, "the other reader let go before this one opened"


def test_a_reader_gives_up_after_its_lock_timeout(warehouse_file, writer_holding):
    started = time.monotonic()
    with (
        pytest.raises(duckdb.IOException, match="Could not set lock"),
        connect_warehouse(warehouse_file, read_only=True, lock_timeout_seconds=0.2),
    ):
        pass
    assert 0.2 <= time.monotonic() - started < HOLD_SECONDS


def test_an_error_other_than_a_held_lock_fails_at_once(tmp_path):
    started = time.monotonic()
    with (
        pytest.raises(duckdb.IOException),
        WarehouseResource(database=str(tmp_path / "missing.duckdb")).get_connection(read_only=True),
    ):
        pass
    assert time.monotonic() - started < 1.0


@pytest.fixture
def far_from_utc(monkeypatch) -> Iterator[None]:
    """The process's local zone set to one five and a half hours from UTC."""
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_the_resource_connections_are_in_utc(far_from_utc, warehouse_file):
    query = "select current_setting('TimeZone'), timestamptz '2026-03-01 00:00:00+00'::varchar"
    with duckdb.connect(str(warehouse_file)) as plain:
        assert plain.execute(query).fetchone()[0] == "Asia/Kolkata", "DuckDB ignored TZ"
    resource = WarehouseResource(database=str(warehouse_file))
    for opened in (resource.get_connection, resource.read):
        with opened() as conn:
            assert conn.execute(query).fetchone() == ("UTC", "2026-03-01 00:00:00+00")


def test_on_spark_the_reader_reads_the_parquet_files_without_the_duckdb_file(tmp_path, monkeypatch):
    spark_warehouse = tmp_path / "spark-warehouse"
    table_dir = spark_warehouse / f"{SPARK_DATABASE}.db" / "marks"
    table_dir.mkdir(parents=True)
    with duckdb.connect() as conn:
        conn.execute(
            f"copy (select 'from parquet' as note) to '{table_dir / 'part-00000.parquet'}'"
        )
    monkeypatch.setenv("ORDERS_ENGINE", "spark")
    monkeypatch.setenv("ORDERS_SPARK_WAREHOUSE", str(spark_warehouse))
    duckdb_file = tmp_path / "unused.duckdb"
    monkeypatch.setenv("ORDERS_WAREHOUSE", str(duckdb_file))
    with WarehouseResource().read() as conn:
        assert conn.execute(f"select note from {SPARK_DATABASE}.marks").fetchall() == [
            ("from parquet",)
        ]
    assert not duckdb_file.exists()
