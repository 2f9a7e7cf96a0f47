"""Landing files into a real DuckDB warehouse: validation, exactly-once, migration."""

import re
from datetime import UTC, datetime
from decimal import Decimal

import duckdb
import pytest

from orders_platform.ingestion.classification import reject_rules
from orders_platform.ingestion.contract import (
    HISTORY_FOLDER,
    PRODUCER_LINE_PATTERN,
    REJECT_REASONS,
)
from orders_platform.ingestion.dialects import DuckDB, SparkSQL
from orders_platform.ingestion.loader import load_new_files
from orders_platform.ingestion.replay import export_rejected
from orders_platform.ingestion.schema import EVENT_IDS_TABLE, PLATFORM_COLUMNS, ensure_schema
from orders_platform.resources.landing import write_complete_file
from orders_platform_tests.expectations import expected_from
from orders_platform_tests.fixtures.late_events import (
    QUOTE_CUSTOMER_ID,
    SQL_ORDER_ID,
    LandingFile,
    both_waves,
    event_line,
    late_wave,
    on_time_wave,
)

ARRIVAL = datetime(2026, 3, 20, tzinfo=UTC)


@pytest.mark.parametrize("dialect", [DuckDB(), SparkSQL()], ids=["duckdb", "spark"])
def test_every_reason_has_one_rule_checked_in_the_contracts_order(dialect):
    assert list(reject_rules(dialect, ARRIVAL.replace(tzinfo=None))) == list(REJECT_REASONS)


def test_the_fixture_lands_exactly_as_the_oracle_classifies_it(platform):
    platform.land(both_waves())
    expected = expected_from(both_waves())
    assert dict(platform.rows("select reason, count(*) from orders_rejected group by 1")) == (
        expected.rejected
    )
    files = platform.rows(
        "select source_file, line_count, loaded_count, rejected_count from orders_landing_files"
    )
    assert {name: tuple(counts) for name, *counts in files} == expected.per_file
    assert platform.rows(
        "select count(*), count(*) filter (where is_retry) from orders_landing"
    ) == [(expected.loaded_lines, expected.retry_lines)]


def test_every_line_of_every_file_is_either_loaded_or_rejected(platform):
    platform.land(both_waves())
    assert (
        platform.rows(
            """
        select f.source_file
        from orders_landing_files as f
        left join (select source_file, count(*) as n from orders_landing group by 1) as l
            using (source_file)
        left join (select source_file, count(*) as n from orders_rejected group by 1) as r
            using (source_file)
        where f.line_count <> coalesce(l.n, 0) + coalesce(r.n, 0)
           or f.loaded_count <> coalesce(l.n, 0)
        """
        )
        == []
    )


def test_each_row_is_stamped_with_the_arrival_time_of_its_file(platform):
    files = late_wave()
    platform.land(files)
    stamped = dict(
        platform.rows("select source_file, max(event_ingested_at) from orders_landing group by 1")
    )
    for landing_file in files:
        if landing_file.name in stamped:
            assert stamped[landing_file.name] == landing_file.arrived_at.replace(tzinfo=None)


def test_loading_the_same_files_again_changes_nothing(platform):
    platform.land(both_waves())
    before = {t: platform.checksum(t) for t in ("orders_landing", "orders_rejected")}
    with platform.connect() as conn:
        report = load_new_files(conn, platform.landing, ingested_at=ARRIVAL)
    assert report.files == []
    assert report.skipped_files == len(both_waves())
    assert {t: platform.checksum(t) for t in before} == before


def test_a_file_still_being_written_is_not_ingested(platform):
    platform.landing.mkdir(parents=True)
    (platform.landing / "orders-2026-03-20T10.jsonl.tmp").write_text('{"event_id": "half')
    with platform.connect() as conn:
        report = load_new_files(conn, platform.landing, ingested_at=ARRIVAL)
    assert report.files == []
    assert platform.rows("select count(*) from orders_landing_files") == [(0,)]


def test_ids_with_quotes_and_sql_round_trip_as_plain_data(platform):
    platform.land(both_waves())
    assert platform.rows(
        "select distinct customer_id from orders_landing where order_id = ?", [SQL_ORDER_ID]
    ) == [(QUOTE_CUSTOMER_ID,)]
    assert (
        platform.rows(
            "select order_id from orders_landing where customer_id = ?", [QUOTE_CUSTOMER_ID]
        )
        != []
    )
    assert {oid for (oid,) in platform.rows("select distinct order_id from orders_landing")} >= {
        SQL_ORDER_ID
    }


def test_a_file_with_invalid_utf8_keeps_its_good_lines(platform):
    platform.landing.mkdir(parents=True)
    good = (
        '{"event_id":"e1","order_id":"o1","customer_id":"c1","status":"paid","amount":"9.99",'
        '"order_placed_at":"2026-03-19T10:00:00Z","event_time":"2026-03-19T11:01:00+01:00"}'
    )
    (platform.landing / "mixed.jsonl").write_bytes(good.encode() + b"\n\xff\xfe\x00oops\n")
    with platform.connect() as conn:
        report = load_new_files(conn, platform.landing, ingested_at=ARRIVAL)
    assert (report.loaded, report.rejected) == (1, 1)
    assert platform.rows("select reason, source_line_number from orders_rejected") == [
        ("invalid_utf8", 2)
    ]
    assert platform.rows("select amount, event_time from orders_landing") == [
        (Decimal("9.99"), datetime(2026, 3, 19, 10, 1))
    ]


def test_a_legacy_landing_table_is_migrated_in_place_without_losing_rows(platform):
    with platform.connect() as conn:
        conn.execute(
            """
            create table orders_landing (
                event_id varchar, order_id varchar, customer_id varchar, status varchar,
                amount decimal(18, 2), order_placed_at timestamp, event_time timestamp
            )
            """
        )
        conn.execute(
            """
            insert into orders_landing values
                ('old-1', 'o-legacy', 'c9', 'paid', 5.00, '2026-02-01 10:00', '2026-02-01 10:01'),
                ('old-1', 'o-legacy', 'c9', 'paid', 5.00, '2026-02-01 10:00', '2026-02-01 10:01'),
                ('old-2', 'o-legacy', 'c9', 'shipped', 5.00, '2026-02-01 10:00', '2026-02-02 08:00')
            """
        )
        changes = ensure_schema(conn)
        assert {f"added orders_landing.{column}" for column in PLATFORM_COLUMNS} <= set(changes)
        assert ensure_schema(conn) == [], "a second migration must be a no-op"
    assert platform.rows(
        "select event_id, event_ingested_at, is_retry from orders_landing order by all"
    ) == [("old-1", None, False), ("old-1", None, True), ("old-2", None, False)]
    platform.land(late_wave())
    assert platform.rows("select count(*) from orders_landing where event_ingested_at is null") == [
        (3,)
    ]


def _paid(event_id: str, placed: str = "2026-03-19T10:00:00Z") -> str:
    return event_line(event_id, "o-1", "c-1", "paid", '"12.50"', placed, "2026-03-19T11:00:00Z")


def _retry_flags(platform, source_file: str) -> list[tuple[int, bool]]:
    return platform.rows(
        "select source_line_number, is_retry from orders_landing where source_file = ? order by 1",
        [source_file],
    )


def test_a_retry_is_flagged_by_its_event_id_however_it_landed_before(platform):
    platform.land([LandingFile("a.jsonl", ARRIVAL, [_paid("e-1"), _paid("e-2")])])
    # across loads, within a load, and an id landed before under another order date
    later = [_paid("e-1"), _paid("e-3"), _paid("e-3"), _paid("e-2", "2026-03-01T10:00:00Z")]
    platform.land([LandingFile("b.jsonl", ARRIVAL, later)])
    assert _retry_flags(platform, "a.jsonl") == [(1, False), (2, False)]
    assert _retry_flags(platform, "b.jsonl") == [(1, True), (2, False), (3, True), (4, True)]
    assert platform.rows(
        f"select event_id, count(*) from {EVENT_IDS_TABLE} group by 1 order by 1"
    ) == [
        ("e-1", 1),
        ("e-2", 1),
        ("e-3", 1),
    ]


def test_an_id_sharing_a_landed_ids_hash_is_a_retry_only_if_the_id_itself_landed(platform):
    platform.land([LandingFile("a.jsonl", ARRIVAL, [_paid("e-1")])])
    with platform.connect() as conn:
        # what a hash collision looks like: another id stored under e-2's hash
        e2_hash = DuckDB().id_hash("'e-2'")
        conn.execute(f"insert into {EVENT_IDS_TABLE} select {e2_hash}, 'e-other'")
    platform.land([LandingFile("b.jsonl", ARRIVAL, [_paid("e-2"), _paid("e-1")])])
    assert _retry_flags(platform, "b.jsonl") == [(1, False), (2, True)]


def test_a_warehouse_without_the_event_id_table_gets_it_filled_from_landing(platform):
    platform.land([LandingFile("a.jsonl", ARRIVAL, [_paid("e-1"), _paid("e-1"), _paid("e-2")])])
    with platform.connect() as conn:
        conn.execute(f"drop table {EVENT_IDS_TABLE}")
        assert ensure_schema(conn) == [f"created {EVENT_IDS_TABLE} from orders_landing"]
        assert ensure_schema(conn) == []
    platform.land([LandingFile("b.jsonl", ARRIVAL, [_paid("e-2"), _paid("e-3"), _paid("e-1")])])
    assert _retry_flags(platform, "b.jsonl") == [(1, True), (2, False), (3, True)]
    assert platform.rows(f"select event_id from {EVENT_IDS_TABLE} order by 1") == [
        ("e-1",),
        ("e-2",),
        ("e-3",),
    ]


def test_event_id_hashes_from_another_duckdb_version_are_recomputed_before_a_lookup(platform):
    platform.land([LandingFile("a.jsonl", ARRIVAL, [_paid("e-1")])])
    with platform.connect() as conn:
        conn.execute(f"update {EVENT_IDS_TABLE} set id_hash = id_hash + 1")
        conn.execute(f"comment on table {EVENT_IDS_TABLE} is 'hashed by another version'")
    (report,) = platform.land([LandingFile("b.jsonl", ARRIVAL, [_paid("e-1")])])
    assert report.migrations == [f"rehashed {EVENT_IDS_TABLE}"]
    assert _retry_flags(platform, "b.jsonl") == [(1, True)]


def test_rejected_lines_replay_as_a_new_file_once_corrected(platform):
    placed = "2026-03-19T09:00:00"
    good = event_line("r-1", "o-r-1", "c-1", "placed", "10.00", f"{placed}Z", f"{placed}Z")
    offsetless = event_line("r-2", "o-r-2", "c-2", "placed", "12.50", placed, placed)
    write_complete_file(platform.landing / "producer.jsonl", [good, offsetless])
    with platform.connect() as conn:
        load_new_files(conn, platform.landing, ingested_at=ARRIVAL)
        fix = platform.root / "replay" / "fix.jsonl"
        assert export_rejected(conn, fix, reason="invalid_timestamp") == 1

    corrected = fix.read_text(encoding="utf-8").replace(f'"{placed}"', f'"{placed}Z"')
    write_complete_file(platform.landing / "producer-replayed.jsonl", corrected.splitlines())
    with platform.connect() as conn:
        load_new_files(conn, platform.landing, ingested_at=ARRIVAL)

    assert platform.rows("select order_id, source_file from orders_landing order by order_id") == [
        ("o-r-1", "producer.jsonl"),
        ("o-r-2", "producer-replayed.jsonl"),
    ]
    # the quarantined original stays as the audit trail, and both files add up
    assert platform.rows("select source_file, reason from orders_rejected") == [
        ("producer.jsonl", "invalid_timestamp")
    ]
    assert platform.rows(
        "select source_file from orders_landing_files "
        "where line_count = loaded_count + rejected_count order by 1"
    ) == [("producer-replayed.jsonl",), ("producer.jsonl",)]


def test_replaying_an_unknown_reason_is_refused(platform):
    with platform.connect() as conn, pytest.raises(ValueError, match="unknown reason"):
        export_rejected(conn, platform.root / "x.jsonl", reason="'; drop table orders_landing")


def test_history_files_land_unstamped_and_in_the_ledger_beside_stamped_files(platform):
    first, *others = on_time_wave()
    history = LandingFile(f"{HISTORY_FOLDER}/{first.name}", first.arrived_at, first.lines)
    platform.land([history, *others])
    stamps = platform.rows(
        "select source_file, count(*), count(event_ingested_at) from orders_landing "
        "group by 1 order by 1"
    )
    assert [row[0] for row in stamps] == sorted([history.name, *(f.name for f in others)])
    for source_file, rows, stamped in stamps:
        assert stamped == (0 if source_file.startswith(f"{HISTORY_FOLDER}/") else rows)
    ledger = platform.rows(
        "select source_file, event_ingested_at is not null from orders_landing_files"
    )
    assert sorted(ledger) == sorted((name, True) for name, _, _ in stamps)


def test_the_loaders_short_way_takes_the_producer_lines_of_the_fixture_and_no_others():
    lines = [line for landing_file in both_waves() for line in landing_file.lines]
    shaped = [bool(re.fullmatch(PRODUCER_LINE_PATTERN, line, flags=re.ASCII)) for line in lines]
    assert sum(shaped) > len(lines) / 2  # the end-to-end tests exercise the short way
    first = lines[shaped.index(True)]
    lines += [" " + first, first + " ", first.replace('":"', '": "', 1), first[:-1] + ',"x":1}']
    shaped += [False] * 4
    taken_by = DuckDB().full_match("line", PRODUCER_LINE_PATTERN)
    taken = (
        duckdb.connect().execute(f"select {taken_by} from unnest(?) as t(line)", [lines]).fetchall()
    )
    assert [row[0] for row in taken] == shaped
