"""tests of the oracle itself, so warehouse tests can trust what it says."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from orders_platform_tests.expectations import (
    REASON_CODES,
    classify_line,
    expected_from,
    parse_amount,
    parse_timestamp,
    split_lines,
)
from orders_platform_tests.fixtures.late_events import (
    QUOTE_CUSTOMER_ID,
    SQL_ORDER_ID,
    LandingFile,
    both_waves,
    expected_reject_codes,
    late_wave,
    on_time_wave,
    write_files,
)

UTC = UTC
ARRIVED = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


def line(**fields: Any) -> str:
    """a valid event line; keyword overrides replace fields, ``None`` values drop them."""
    event: dict[str, Any] = {
        "event_id": "e-1",
        "order_id": "o-1",
        "customer_id": "c-1",
        "status": "paid",
        "amount": "10.00",
        "order_placed_at": "2026-03-10T10:00:00Z",
        "event_time": "2026-03-10T11:00:00Z",
    }
    for key, value in fields.items():
        if value is None:
            event.pop(key, None)
        else:
            event[key] = value
    return json.dumps(event)


def landing(name: str, *lines: str, arrived: datetime = ARRIVED) -> LandingFile:
    """a tiny landing file."""
    return LandingFile(name, arrived, list(lines))


# --- winner selection -------------------------------------------------------


def test_an_exact_event_time_tie_is_won_by_the_greatest_event_id() -> None:
    greater = line(event_id="e-b", status="delivered", event_time="2026-03-11T10:00:00Z")
    # same instant, text sorts higher, smaller id, arrives later: must still lose
    smaller = line(event_id="e-a", status="cancelled", event_time="2026-03-11T15:30:00+05:30")
    exp = expected_from([landing("1.jsonl", greater), landing("2.jsonl", smaller)])
    assert exp.orders["o-1"].event_id == "e-b"
    assert exp.orders["o-1"].status == "delivered"
    assert exp.days[date(2026, 3, 10)].cancelled_orders == 0


def test_an_older_snapshot_arriving_after_a_newer_one_does_not_win() -> None:
    newer = line(event_id="e-2", status="refunded", event_time="2026-03-12T00:00:00Z")
    older = line(event_id="e-9", status="delivered", event_time="2026-03-11T00:00:00Z")
    exp = expected_from([landing("1.jsonl", newer), landing("2.jsonl", older)])
    assert exp.orders["o-1"].event_id == "e-2"
    assert exp.days[date(2026, 3, 10)].refunded_amount == Decimal("10.00")
    assert exp.days[date(2026, 3, 10)].net_revenue == Decimal("0.00")


def test_a_later_snapshot_placed_on_another_utc_date_moves_the_order_and_empties_the_old_day() -> (
    None
):
    first = line(event_id="e-1", order_placed_at="2026-03-10T10:00:00Z")
    moved = line(
        event_id="e-2",
        order_placed_at="2026-03-10T22:00:00-05:00",  # 2026-03-11T03:00Z
        event_time="2026-03-12T00:00:00Z",
    )
    exp = expected_from([landing("1.jsonl", first, moved)])
    assert exp.orders["o-1"].order_date == date(2026, 3, 11)
    assert exp.orders["o-1"].order_placed_at == datetime(2026, 3, 11, 3, 0)
    assert list(exp.days) == [date(2026, 3, 11)]


def test_order_date_is_the_utc_date_of_order_placed_at_not_the_local_one() -> None:
    exp = expected_from([landing("1.jsonl", line(order_placed_at="2026-03-10T01:15:00+02:00"))])
    assert exp.orders["o-1"].order_date == date(2026, 3, 9)


# --- retries ------------------------------------------------------------------


def test_a_retried_line_is_loaded_but_counted_once() -> None:
    once = line(amount="25.50")
    exp = expected_from([landing("1.jsonl", once, once), landing("2.jsonl", once)])
    assert exp.loaded_lines == 3
    assert exp.retry_lines == 2
    assert exp.per_file == {"1.jsonl": (2, 2, 0), "2.jsonl": (1, 1, 0)}
    assert exp.days[date(2026, 3, 10)].orders == 1
    assert exp.days[date(2026, 3, 10)].net_revenue == Decimal("25.50")


def test_files_are_replayed_in_file_name_order_not_list_order() -> None:
    once = line()
    exp = expected_from([landing("b.jsonl", once), landing("a.jsonl", once)])
    assert exp.per_file == {"a.jsonl": (1, 1, 0), "b.jsonl": (1, 1, 0)}
    assert list(exp.per_file) == ["a.jsonl", "b.jsonl"]
    assert exp.retry_lines == 1


def test_a_rejected_line_does_not_make_its_later_valid_copy_a_retry() -> None:
    too_early = datetime(2026, 3, 9, 0, 0, tzinfo=UTC)  # event is > 24 h after it
    exp = expected_from([landing("1.jsonl", line(), arrived=too_early), landing("2.jsonl", line())])
    assert exp.rejected == {"event_time_after_arrival": 1}
    assert (exp.loaded_lines, exp.retry_lines) == (1, 0)


# --- validation -------------------------------------------------------------

REASON_CASES: list[tuple[str, str]] = [
    ("blank_line", ""),
    ("blank_line", " \t "),
    ("blank_line", "\r"),
    ("malformed_json", '{"event_id": "e-1",'),
    ("malformed_json", "[1, 2]"),
    ("malformed_json", '"just a string"'),
    ("malformed_json", line()[:-1] + ', "x": NaN}'),
    ("malformed_json", line()[:-1] + ', "x": -Infinity}'),
    ("missing_id", line(event_id=None)),
    ("missing_id", line(order_id="")),
    ("missing_id", line(customer_id=7)),
    ("missing_id", line()[:-1] + ', "event_id": null}'),
    ("unknown_status", line(status="lost")),
    ("unknown_status", line(status="PAID")),
    ("unknown_status", line(status=None)),
    ("invalid_amount", line(amount=None)),
    ("invalid_amount", line()[:-1] + ', "amount": null}'),
    ("invalid_amount", line(amount=True)),
    ("invalid_amount", line(amount="ten")),
    ("invalid_amount", line(amount="NaN")),
    ("invalid_amount", line(amount="Infinity")),
    ("invalid_amount", line(amount=" 10")),
    (
        "invalid_amount",
        '{"event_id": "e-1", "order_id": "o-1", "customer_id": "c-1", "status": "paid", '
        '"amount": 10.005, "order_placed_at": "2026-03-10T10:00:00Z", '
        '"event_time": "2026-03-10T11:00:00Z"}',
    ),
    ("negative_amount", line(amount=-1)),
    ("negative_amount", line(amount="-0.01")),
    ("invalid_timestamp", line(event_time="2026-03-10T11:00:00")),
    ("invalid_timestamp", line(order_placed_at=None)),
    ("invalid_timestamp", line(order_placed_at="2026-02-29T10:00:00Z")),
    ("invalid_timestamp", line(event_time="2026-03-10T11:00:00+24:00")),
    ("invalid_timestamp", line(event_time="soon")),
    ("invalid_timestamp", line(event_time=1773140400)),
    ("event_time_before_order_placed", line(event_time="2026-03-10T09:59:59Z")),
    ("event_time_before_order_placed", line(event_time="2026-03-10T12:00:00+03:00")),
    ("event_time_after_arrival", line(event_time="2026-03-16T12:00:01Z")),
]


@pytest.mark.parametrize(("code", "raw"), REASON_CASES)
def test_each_reason_code_is_reported_for_a_line_breaking_only_that_rule(
    code: str, raw: str
) -> None:
    assert classify_line(raw, ARRIVED) == code


def test_every_reason_code_has_at_least_one_oracle_case() -> None:
    assert {code for code, _ in REASON_CASES} == set(REASON_CODES)


@pytest.mark.parametrize(
    ("code", "raw"),
    [
        ("missing_id", line(order_id=None, status="lost", amount=-1, event_time="x")),
        ("unknown_status", line(status="void", amount="abc")),
        ("invalid_amount", line(amount=True, event_time="x")),
        (
            "invalid_amount",
            '{"event_id": "e-1", "order_id": "o-1", "customer_id": "c-1", "status": "paid", '
            '"amount": -1.005}',
        ),
        ("negative_amount", line(amount="-3", event_time="x")),
        (
            "invalid_timestamp",
            line(order_placed_at="2026-03-10T10:00:00", event_time="2026-03-01T00:00:00Z"),
        ),
        (
            "event_time_before_order_placed",
            line(order_placed_at="2026-04-30T00:00:00Z", event_time="2026-04-29T00:00:00Z"),
        ),
    ],
)
def test_the_first_failing_check_in_contract_order_names_the_reason(code: str, raw: str) -> None:
    assert classify_line(raw, ARRIVED) == code


def test_an_event_exactly_24_hours_after_arrival_is_still_valid() -> None:
    assert classify_line(line(event_time="2026-03-16T12:00:00Z"), ARRIVED) is None
    assert classify_line(line(event_time="2026-03-16T17:30:00+05:30"), ARRIVED) is None


def test_an_event_time_equal_to_order_placed_at_in_another_offset_is_valid() -> None:
    raw = line(order_placed_at="2026-03-10T10:00:00+02:00", event_time="2026-03-10T02:30:00-05:30")
    assert classify_line(raw, ARRIVED) is None


def test_a_naive_arrival_time_is_read_as_utc() -> None:
    raw = line(event_time="2026-03-16T12:00:00Z")
    assert classify_line(raw, ARRIVED.replace(tzinfo=None)) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (12, Decimal("12")),
        (Decimal("12.5"), Decimal("12.5")),
        ("12.50", Decimal("12.50")),
        ("0", Decimal("0")),
        (-0, Decimal("0")),
        ("-0", Decimal("0")),
        (Decimal("-0.00"), Decimal("0")),
        (True, None),
        (None, None),
        ("NaN", None),
        ("1e3", None),
        ("12.345", None),
        (Decimal("12.345"), None),
        (Decimal("Infinity"), None),
        ([1], None),
    ],
)
def test_amounts_accept_numbers_and_numeric_strings_but_not_bools_or_sub_cent_values(
    value: Any, expected: Decimal | None
) -> None:
    assert parse_amount(value) == expected


def test_minus_zero_is_a_valid_amount_that_sums_as_zero() -> None:
    exp = expected_from(
        [landing("1.jsonl", line(amount=-0), line(event_id="e-0", order_id="o-0", amount="-0.00"))]
    )
    assert exp.rejected == {}
    assert exp.days[date(2026, 3, 10)].net_revenue == Decimal("0.00")
    assert str(exp.orders["o-1"].amount) == "0.00"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-04T23:30:00-05:00", datetime(2026, 3, 5, 4, 30, tzinfo=UTC)),
        ("2026-03-04 23:30-0500", datetime(2026, 3, 5, 4, 30, tzinfo=UTC)),
        ("2026-03-04T23:30:00.25Z", datetime(2026, 3, 4, 23, 30, 0, 250000, tzinfo=UTC)),
        ("2026-03-04T23:30:00+00:00", datetime(2026, 3, 4, 23, 30, tzinfo=UTC)),
        ("2026-03-04T23:30:00", None),
        ("2026-03-04", None),
        ("2026-03-04T23:30:00z", None),
        ("2026-03-04T23:30:00+05", None),
        ("2026-03-04T24:00:00Z", None),
        ("2026-03-04T23:30:00Z\n", None),
        (None, None),
    ],
)
def test_timestamps_need_an_offset_and_compare_as_utc_instants(
    text: Any, expected: datetime | None
) -> None:
    assert parse_timestamp(text) == expected


def test_a_final_newline_adds_no_line_and_a_trailing_carriage_return_is_stripped() -> None:
    assert split_lines("a\r\n\nb\n") == ["a", "", "b"]
    assert split_lines("a") == ["a"]
    assert split_lines("") == []
    exp = expected_from([landing("1.jsonl", line() + "\r", "", line(event_id="e-2") + "\r")])
    assert exp.per_file == {"1.jsonl": (3, 2, 1)}
    assert exp.rejected == {"blank_line": 1}


def test_day_totals_split_revenue_cancellations_and_refunds_exactly_to_the_cent() -> None:
    exp = expected_from(
        [
            landing(
                "1.jsonl",
                line(event_id="e-1", order_id="o-1", amount=0.1),
                line(event_id="e-2", order_id="o-2", amount="0.20"),
                line(event_id="e-3", order_id="o-3", amount=5, status="cancelled"),
                line(event_id="e-4", order_id="o-4", amount="7.05", status="refunded"),
                line(event_id="e-5", order_id="o-5", amount="1.10", status="refunded"),
            )
        ]
    )
    day = exp.days[date(2026, 3, 10)]
    assert (day.orders, day.cancelled_orders) == (5, 1)
    assert day.net_revenue == Decimal("0.30")
    assert day.refunded_amount == Decimal("8.15")


def test_sql_looking_ids_are_plain_data() -> None:
    raw = line(order_id=SQL_ORDER_ID, customer_id=QUOTE_CUSTOMER_ID)
    exp = expected_from([landing("1.jsonl", raw)])
    assert exp.orders[SQL_ORDER_ID].customer_id == 'c"1'


# --- the shared fixture -------------------------------------------------------

ON_TIME_DAYS = {
    # order_date: (orders, net_revenue, cancelled_orders, refunded_amount)
    date(2026, 3, 1): (4, "43.40", 1, "7.99"),
    date(2026, 3, 2): (5, "233.15", 1, "0.00"),
    date(2026, 3, 3): (3, "105.65", 0, "220.00"),
    date(2026, 3, 4): (4, "153.14", 0, "0.00"),
    date(2026, 3, 5): (6, "267.43", 1, "0.00"),
    date(2026, 3, 6): (3, "94.05", 0, "12.00"),
    date(2026, 3, 7): (1, "41.20", 0, "0.00"),
    date(2026, 3, 8): (4, "175.24", 1, "0.00"),
    date(2026, 3, 9): (3, "111.30", 0, "0.00"),
    date(2026, 3, 10): (5, "157.05", 1, "120.00"),
    date(2026, 3, 11): (4, "149.25", 1, "0.00"),
    date(2026, 3, 12): (3, "97.40", 0, "19.00"),
    date(2026, 3, 13): (6, "256.51", 1, "0.00"),
    date(2026, 3, 14): (3, "76.80", 1, "0.00"),
}
BOTH_WAVES_DAYS = {
    date(2026, 3, 1): (4, "43.40", 1, "7.99"),
    date(2026, 3, 2): (6, "250.05", 1, "45.00"),
    date(2026, 3, 3): (3, "15.75", 0, "309.90"),
    date(2026, 3, 4): (4, "99.04", 1, "0.00"),
    date(2026, 3, 5): (6, "267.43", 1, "0.00"),
    date(2026, 3, 6): (3, "94.05", 0, "12.00"),
    date(2026, 3, 8): (5, "216.44", 1, "0.00"),
    date(2026, 3, 9): (4, "134.75", 0, "0.00"),
    date(2026, 3, 10): (4, "92.25", 1, "120.00"),
    date(2026, 3, 11): (4, "149.25", 1, "0.00"),
    date(2026, 3, 12): (4, "162.20", 0, "19.00"),
    date(2026, 3, 13): (6, "256.51", 1, "0.00"),
    date(2026, 3, 14): (4, "49.50", 1, "27.30"),
}


def _table(files: list[LandingFile]) -> dict[date, tuple[int, str, int, str]]:
    """the oracle's day totals in the published table's shape."""
    return {
        d: (t.orders, str(t.net_revenue), t.cancelled_orders, str(t.refunded_amount))
        for d, t in expected_from(files).days.items()
    }


def test_the_fixture_totals_match_the_published_tables() -> None:
    assert _table(on_time_wave()) == ON_TIME_DAYS
    assert _table(both_waves()) == BOTH_WAVES_DAYS


def test_the_on_time_wave_loads_every_line_without_rejects() -> None:
    exp = expected_from(on_time_wave())
    assert exp.rejected == {}
    assert (exp.loaded_lines, exp.retry_lines, len(exp.orders)) == (129, 0, 54)
    assert sorted(exp.days) == [date(2026, 3, d) for d in range(1, 15)]


def test_the_late_wave_rejects_exactly_the_annotated_lines_in_order() -> None:
    got = [
        code
        for f in late_wave()
        for raw in f.lines
        if (code := classify_line(raw, f.arrived_at)) is not None
    ]
    assert got == expected_reject_codes()
    assert set(got) == set(REASON_CODES)


def test_both_waves_count_loads_retries_and_rejects_per_reason() -> None:
    exp = expected_from(both_waves())
    assert (exp.loaded_lines, exp.retry_lines, len(exp.orders)) == (153, 4, 57)
    assert exp.rejected == {
        "blank_line": 2,
        "malformed_json": 5,
        "missing_id": 5,
        "unknown_status": 4,
        "invalid_amount": 7,
        "negative_amount": 3,
        "invalid_timestamp": 6,
        "event_time_before_order_placed": 2,
        "event_time_after_arrival": 2,
    }
    assert exp.per_file["2026-03-24T07.jsonl"] == (37, 3, 34)
    assert exp.per_file["2026-03-29T18.jsonl"] == (6, 4, 2)


def test_the_late_scenarios_end_in_the_documented_states() -> None:
    orders = expected_from(both_waves()).orders
    # 2 and 3: refunded stays the winner over the older delivered that arrives later
    assert (orders["o-0303-1"].status, orders["o-0303-1"].event_id) == ("refunded", "ev-0303-1-l1")
    assert orders["o-0305-2"].event_id == "ev-0305-2-2"
    # 3: late status changes on old days
    assert orders["o-0302-2"].status == "refunded"
    assert orders["o-0304-1"].status == "cancelled"
    assert orders["o-0314-2"].status == "refunded"
    # 4: tie at 2026-03-18T10:00Z, greatest event_id wins
    assert (orders["o-0308-2"].event_id, orders["o-0308-2"].status) == (
        "ev-0308-2-tie-b",
        "delivered",
    )
    # 5 and 6: moved orders, 2026-03-07 is gone
    assert orders["o-0310-3"].order_date == date(2026, 3, 12)
    assert orders["o-0307-1"].order_date == date(2026, 3, 8)
    assert date(2026, 3, 7) not in expected_from(both_waves()).days
    # 8 and 9: plain-data ids and late-only orders
    assert orders[SQL_ORDER_ID].customer_id == QUOTE_CUSTOMER_ID
    assert orders[SQL_ORDER_ID].order_date == date(2026, 3, 9)
    assert orders["o-0302-9"].status == "delivered"
    assert orders["o-0314-9"].amount == Decimal("0.00")
    # rejected lines never create orders
    assert not {"o-ghost-1", "o-ghost-2"} & set(orders)
    # 24 h boundary event is loaded, the one a second later is not
    assert orders["o-0312-1"].event_time == datetime(2026, 3, 30, 18, 0)


def test_retried_fixture_lines_repeat_the_exact_payload() -> None:
    seen: dict[str, str] = {}
    for f in both_waves():
        for raw in split_lines("\n".join(f.lines) + "\n"):
            if classify_line(raw, f.arrived_at) is None:
                event_id = json.loads(raw)["event_id"]
                assert seen.setdefault(event_id, raw) == raw


def test_fixture_files_arrive_in_march_2026_in_file_name_order() -> None:
    files = both_waves()
    assert [f.name for f in files] == sorted(f.name for f in files)
    arrivals = [f.arrived_at for f in files]
    assert arrivals == sorted(arrivals)
    assert all(a.utcoffset() == timedelta(0) for a in arrivals)
    assert all((a.year, a.month) == (2026, 3) for a in arrivals)
    assert all(f.arrived_at.date() == date(2026, 3, 15) for f in on_time_wave())
    assert all(f.arrived_at.date() >= date(2026, 3, 17) for f in late_wave())


def test_write_files_writes_the_exact_lines(tmp_path: Path) -> None:
    write_files(both_waves(), tmp_path / "landing")
    for f in both_waves():
        body = (tmp_path / "landing" / f.name).read_bytes().decode("utf-8")
        assert body == "\n".join(f.lines) + "\n"
        assert len(split_lines(body)) == len(f.lines)
