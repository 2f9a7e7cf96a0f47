"""Spark ingestion against its oracle, the DuckDB loader, on the late-event fixture.

Both loaders land the same files, one at a time at each file's arrival time, with the same
load ids; every row of the four ingestion tables must agree. The Spark tables are read
back through `read_warehouse` (parquet views in DuckDB), which is also what the checks and
sensors use on Spark. One JVM serves the whole module (it takes most of a minute to start
on a shared machine).
"""

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from orders_platform.ingestion.load_steps import LoadReport
from orders_platform.ingestion.loader import load_new_files
from orders_platform.ingestion.schema import (
    DAYS_TABLE,
    EVENT_IDS_TABLE,
    FILES_TABLE,
    LANDING_TABLE,
    REJECTED_TABLE,
)
from orders_platform.resources.warehouse import connect_warehouse, read_warehouse
from orders_platform_tests.expectations import classify_file, expected_from
from orders_platform_tests.fixtures.late_events import (
    LandingFile,
    both_waves,
    event_line,
    on_time_wave,
    write_files,
)

pytestmark = pytest.mark.spark

TABLES = (LANDING_TABLE, REJECTED_TABLE, FILES_TABLE, DAYS_TABLE)

# Beyond the fixture: a line that is not UTF-8 beside a good one, and times without seconds.
_EXTRA = LandingFile(
    "2026-03-31T00.jsonl",
    datetime(2026, 3, 31, tzinfo=UTC),
    [
        event_line(
            "ev-extra-1", "o-extra-1", "c-1", "paid", '"7.50"',
            "2026-03-30T10:00+02:00", "2026-03-30T09:30Z",
        ),
        "\udcff\udcfeoops",
    ],
)  # fmt: skip


# String amounts on the edge of the contract, each in the producers' shape and spaced out.
def _amount_lines() -> list[str]:
    from orders_platform_tests.test_fuzz_ingestion import BORDERLINE_AMOUNTS

    lines = []
    for number, amount in enumerate(BORDERLINE_AMOUNTS):
        shaped = event_line(
            f"ev-amount-{number}", "o-amount", "c-1", "paid", json.dumps(amount),
            "2026-03-30T10:00:00Z", "2026-03-30T11:00:00+01:00",
        )  # fmt: skip
        spaced = json.dumps({**json.loads(shaped), "event_id": f"ev-amount-{number}-spaced"})
        lines += [shaped, spaced]
    return lines


_AMOUNTS = LandingFile("2026-03-31T01.jsonl", datetime(2026, 3, 31, tzinfo=UTC), _amount_lines())


def _write(landing_file: LandingFile, directory: Path) -> None:
    """Write the file's lines as UTF-8, the surrogate escapes of `_EXTRA` as raw bytes."""
    directory.mkdir(parents=True, exist_ok=True)
    body = "\n".join(landing_file.lines) + "\n"
    (directory / landing_file.name).write_bytes(body.encode("utf-8", "surrogateescape"))


def _files() -> list[LandingFile]:
    return [*both_waves(), _EXTRA, _AMOUNTS]


@dataclass
class Landed:
    duckdb: Path
    spark_warehouse: Path
    spark_reports: list[LoadReport]
    duckdb_reports: list[LoadReport]
    relanded: LoadReport
    recovered: LoadReport
    spark_rows: dict[str, list[tuple[Any, ...]]]
    reader_while_session_open: str
    # the event-id table as the loads wrote it, and as refilled from landing once dropped
    event_ids: list[tuple[Any, ...]]
    event_ids_refilled: list[tuple[Any, ...]]
    refill_changes: list[str]


def _rows(conn, table: str, columns: list[str]) -> list[tuple[Any, ...]]:
    return conn.execute(f"select {', '.join(columns)} from {table} order by all").fetchall()


def _columns(conn, table: str) -> list[str]:
    return [
        name
        for (name,) in conn.execute(
            "select column_name from information_schema.columns "
            "where table_name = ? order by ordinal_position",
            [table],
        ).fetchall()
    ]


_READER_SCRIPT = textwrap.dedent(
    """
    import sys
    sys.modules["pyspark"] = None  # a reader that tried to start Spark would fail here
    from orders_platform.resources.warehouse import read_warehouse
    with read_warehouse() as conn:
        print(conn.execute("select count(*) from orders_landing").fetchone()[0])
    """
)


@pytest.fixture(scope="module")
def landed(tmp_path_factory) -> Iterator[Landed]:
    from orders_platform.ingestion.spark_loader import load_new_files_spark
    from orders_platform.ingestion.spark_schema import ensure_spark_schema
    from orders_platform.resources.spark import spark_session

    root = tmp_path_factory.mktemp("spark_ingestion")
    duckdb_file, warehouse = root / "warehouse.duckdb", root / "spark-warehouse"
    duckdb_reports, spark_reports = [], []
    for number, landing_file in enumerate(_files()):
        _write(landing_file, root / "landing-duckdb")
        with connect_warehouse(duckdb_file) as conn:
            duckdb_reports.append(
                load_new_files(
                    conn,
                    root / "landing-duckdb",
                    ingested_at=landing_file.arrived_at,
                    load_id=f"load-{number}",
                )
            )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ORDERS_ENGINE", "spark")
        mp.setenv("ORDERS_SPARK_WAREHOUSE", str(warehouse))
        with spark_session("local[2]", warehouse) as spark:
            for number, landing_file in enumerate(_files()):
                _write(landing_file, root / "landing-spark")
                spark_reports.append(
                    load_new_files_spark(
                        spark,
                        root / "landing-spark",
                        ingested_at=landing_file.arrived_at,
                        load_id=f"load-{number}",
                    )
                )
            relanded = load_new_files_spark(spark, root / "landing-spark", load_id="again")
            # a load that died after writing rows but before its ledger rows
            spark.sql(
                "insert into main.orders_landing select event_id, order_id, customer_id, "
                "status, amount, order_placed_at, event_time, event_ingested_at, "
                "'never-ledgered.jsonl', source_line_number, is_retry, 'dead-load' "
                "from main.orders_landing limit 3"
            )
            recovered = load_new_files_spark(spark, root / "landing-spark", load_id="recovery")
            event_ids_sql = f"select id_hash, event_id, load_id from main.{EVENT_IDS_TABLE}"
            event_ids = sorted(tuple(row) for row in spark.sql(event_ids_sql).collect())
            spark.sql(f"drop table main.{EVENT_IDS_TABLE}")
            refill_changes = ensure_spark_schema(spark)
            event_ids_refilled = sorted(tuple(row) for row in spark.sql(event_ids_sql).collect())
            spark_rows = {
                table: [
                    tuple(row)
                    for row in spark.sql(
                        f"select {_SPARK_SELECT[table]} from main.{table}"
                    ).collect()
                ]
                for table in TABLES
            }
            reader = subprocess.run(
                [sys.executable, "-c", _READER_SCRIPT],
                capture_output=True,
                text=True,
                timeout=120,
                check=True,
            )
        yield Landed(
            duckdb=duckdb_file,
            spark_warehouse=warehouse,
            spark_reports=spark_reports,
            duckdb_reports=duckdb_reports,
            relanded=relanded,
            recovered=recovered,
            spark_rows=spark_rows,
            reader_while_session_open=reader.stdout.strip(),
            event_ids=event_ids,
            event_ids_refilled=event_ids_refilled,
            refill_changes=refill_changes,
        )


# Spark's own view of each table, times as epoch microseconds (never converted by Python's
# local time zone), for comparison with what the parquet reader shows.
_SPARK_SELECT = {
    LANDING_TABLE: "event_id, source_file, source_line_number, cast(amount as string), "
    "unix_micros(order_placed_at), unix_micros(event_time), unix_micros(event_ingested_at), "
    "is_retry, load_id",
    REJECTED_TABLE: "source_file, source_line_number, raw_line, reason, "
    "unix_micros(rejected_at), load_id",
    FILES_TABLE: "source_file, line_count, loaded_count, rejected_count, retry_count, "
    "unix_micros(event_ingested_at), load_id",
    DAYS_TABLE: "cast(order_date as string), version, unix_micros(updated_at)",
}
_READER_SELECT = {
    LANDING_TABLE: "event_id, source_file, source_line_number, amount::varchar, "
    "epoch_us(order_placed_at), epoch_us(event_time), epoch_us(event_ingested_at), "
    "is_retry, load_id",
    REJECTED_TABLE: "source_file, source_line_number, raw_line, reason, epoch_us(rejected_at), "
    "load_id",
    FILES_TABLE: "source_file, line_count, loaded_count, rejected_count, retry_count, "
    "epoch_us(event_ingested_at), load_id",
    DAYS_TABLE: "order_date::varchar, version, epoch_us(updated_at)",
}


@pytest.fixture
def on_spark(landed, monkeypatch) -> Landed:
    monkeypatch.setenv("ORDERS_ENGINE", "spark")
    monkeypatch.setenv("ORDERS_SPARK_WAREHOUSE", str(landed.spark_warehouse))
    return landed


@pytest.mark.parametrize("table", TABLES)
def test_spark_lands_every_row_as_the_duckdb_loader_does(on_spark, table):
    with connect_warehouse(on_spark.duckdb, read_only=True) as conn:
        columns = _columns(conn, table)
        expected = _rows(conn, table, columns)
    with read_warehouse() as conn:
        assert sorted(_columns(conn, table)) == sorted(columns)
        assert _rows(conn, table, columns) == expected
    assert expected, f"{table} is empty: the comparison would prove nothing"


def test_both_engines_keep_each_landed_event_id_once(landed):
    with connect_warehouse(landed.duckdb) as conn:
        landed_ids = conn.execute("select distinct event_id from orders_landing").fetchall()
        duckdb_ids = conn.execute(f"select event_id from {EVENT_IDS_TABLE}").fetchall()
    spark_ids = [(event_id,) for _, event_id, _ in landed.event_ids]
    assert sorted(duckdb_ids) == sorted(landed_ids)
    assert sorted(spark_ids) == sorted(landed_ids)


def test_a_dropped_event_id_table_is_refilled_from_landing_as_the_loads_wrote_it(landed):
    assert landed.refill_changes == [f"created {EVENT_IDS_TABLE} from {LANDING_TABLE}"]
    assert landed.event_ids_refilled == landed.event_ids


def test_each_file_reports_the_same_accounting_on_both_engines(landed):
    assert [r.files for r in landed.spark_reports] == [r.files for r in landed.duckdb_reports]
    assert [r.touched_days for r in landed.spark_reports] == [
        r.touched_days for r in landed.duckdb_reports
    ]
    assert [r.rejected_by_reason for r in landed.spark_reports] == [
        r.rejected_by_reason for r in landed.duckdb_reports
    ]
    for report in landed.spark_reports:
        for file in report.files:
            assert file.lines == file.loaded + file.rejected


def test_the_fixture_lands_on_spark_as_the_fixture_oracle_says(on_spark):
    expected = expected_from(both_waves())
    with read_warehouse() as conn:
        rejected = dict(
            conn.execute(
                "select reason, count(*) from orders_rejected "
                "where source_file not in (?, ?) group by reason",
                [_EXTRA.name, _AMOUNTS.name],
            ).fetchall()
        )
        assert rejected == expected.rejected
        assert conn.execute(
            "select reason, source_line_number from orders_rejected where source_file = ?",
            [_EXTRA.name],
        ).fetchall() == [("invalid_utf8", 2)]
        assert conn.execute(
            "select order_placed_at, event_time from orders_landing where event_id = 'ev-extra-1'"
        ).fetchall() == [(datetime(2026, 3, 30, 8, 0), datetime(2026, 3, 30, 9, 30))]


def test_string_amounts_on_the_contracts_edge_land_on_spark_as_the_oracle_says(on_spark):
    with read_warehouse() as conn:
        outcomes = dict(
            conn.execute(
                "select source_line_number, reason from orders_rejected where source_file = ? "
                "union all "
                "select source_line_number, null from orders_landing where source_file = ?",
                [_AMOUNTS.name, _AMOUNTS.name],
            ).fetchall()
        )
    expected = classify_file("\n".join(_AMOUNTS.lines).encode(), _AMOUNTS.arrived_at)
    assert [outcomes[number] for number in range(1, len(expected) + 1)] == expected


def test_relanding_the_same_files_loads_nothing(landed):
    assert landed.relanded.files == []
    assert landed.relanded.skipped_files == len(_files())


def test_a_load_that_died_before_its_ledger_rows_is_dropped_by_the_next_load(on_spark):
    assert "dropped unfinished load dead-load" in on_spark.recovered.migrations
    with read_warehouse() as conn:
        assert conn.execute(
            "select count(*) from orders_landing where load_id = 'dead-load'"
        ).fetchone() == (0,)


@pytest.mark.parametrize("table", TABLES)
def test_the_reader_shows_what_spark_wrote_with_naive_utc_times(on_spark, table):
    with read_warehouse() as conn:
        reader_rows = conn.execute(f"select {_READER_SELECT[table]} from {table}").fetchall()
        types = dict(
            conn.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_name = ?",
                [table],
            ).fetchall()
        )
    assert sorted(reader_rows) == sorted(on_spark.spark_rows[table])
    assert "TIMESTAMP WITH TIME ZONE" not in types.values()
    assert any(t == "TIMESTAMP" for t in types.values())


def test_a_reader_needs_no_spark_while_a_spark_session_holds_the_metastore(landed):
    with connect_warehouse(landed.duckdb, read_only=True) as conn:
        landed_rows = conn.execute("select count(*) from orders_landing").fetchone()[0]
    assert landed.reader_while_session_open == str(landed_rows)


def test_write_files_of_the_fixture_and_of_this_module_agree(tmp_path):
    """`_write` is the fixture's own byte layout, plus raw bytes for `_EXTRA`."""
    first = both_waves()[0]
    write_files([first], tmp_path / "a")
    _write(first, tmp_path / "b")
    assert (tmp_path / "a" / first.name).read_bytes() == (tmp_path / "b" / first.name).read_bytes()


def test_the_ingestion_asset_lands_on_spark_when_the_engine_says_so(tmp_path, monkeypatch):
    from dagster import DagsterInstance, materialize

    from orders_platform.ingestion.assets import orders_landing
    from orders_platform.ingestion.landed_days import published_versions_path
    from orders_platform.resources import LandingZoneResource, WarehouseResource

    warehouse = tmp_path / "spark-warehouse"
    monkeypatch.setenv("ORDERS_ENGINE", "spark")
    monkeypatch.setenv("ORDERS_SPARK_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("ORDERS_WAREHOUSE", str(tmp_path / "unused.duckdb"))
    files = on_time_wave()  # three files in one load
    write_files(files, tmp_path / "landing")
    with DagsterInstance.ephemeral() as instance:
        result = materialize(
            [orders_landing],
            instance=instance,
            resources={
                "warehouse": WarehouseResource(),
                "landing": LandingZoneResource(path=str(tmp_path / "landing")),
            },
        )
    assert result.success
    [check] = result.get_asset_check_evaluations()
    assert check.passed
    metadata = result.asset_materializations_for_node("orders_landing")[0].metadata
    assert metadata["files_loaded"].value == len(files)
    assert metadata["rows_loaded"].value == sum(len(f.lines) for f in files)
    assert not (tmp_path / "unused.duckdb").exists(), "the DuckDB file was opened on Spark"
    assert published_versions_path() == warehouse / "landing_days.json"
    assert published_versions_path().exists()
    with read_warehouse() as conn:
        assert conn.execute(
            "select source_file, line_count, loaded_count from orders_landing_files order by 1"
        ).fetchall() == [(f.name, len(f.lines), len(f.lines)) for f in files]
