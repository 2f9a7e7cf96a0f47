"""Property-based tests: whatever a producer ships, ingestion never crashes or loses a line,
and every line ends where the contract says.

Hypothesis runs derandomized, so CI sees the same inputs every time. For each generated file,
every line's outcome in the warehouse (loaded into orders_landing, or quarantined in
orders_rejected with which reason) must equal the independent oracle's
(`orders_platform_tests.expectations.classify_file`), line by line; the file's recorded line
count must equal its lines.
"""

import json
import re
import tempfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orders_platform.ingestion.contract import PRODUCER_LINE_PATTERN, STATUSES
from orders_platform.ingestion.loader import load_new_files
from orders_platform_tests.expectations import INVALID_UTF8, classify_file

ARRIVAL = datetime(2026, 3, 20, tzinfo=UTC)
FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)

VALID = {
    "event_id": "e-1",
    "order_id": "o-1",
    "customer_id": "c-1",
    "status": "paid",
    "amount": "12.50",
    "order_placed_at": "2026-03-19T10:00:00Z",
    "event_time": "2026-03-19T11:05:00+01:00",
}


def ingest(data: bytes) -> tuple[list[str | None], int, int]:
    """Load one file of `data`; returns each line's outcome (None: loaded, else the reason it
    was quarantined with), the line count recorded for the file, and the files recorded."""
    with tempfile.TemporaryDirectory() as tmp:
        landing = Path(tmp) / "landing"
        landing.mkdir()
        (landing / "fuzz.jsonl").write_bytes(data)
        conn = duckdb.connect(str(Path(tmp) / "w.duckdb"))
        try:
            load_new_files(conn, landing, ingested_at=ARRIVAL)
            loaded = [
                n
                for (n,) in conn.execute("select source_line_number from orders_landing").fetchall()
            ]
            rejected = conn.execute(
                "select source_line_number, reason from orders_rejected"
            ).fetchall()
            recorded_lines, files = conn.execute(
                "select coalesce(sum(line_count), 0), count(*) from orders_landing_files"
            ).fetchone()
        finally:
            conn.close()
    outcomes: dict[int, list[str | None]] = {}
    for line in loaded:
        outcomes.setdefault(line, []).append(None)
    for line, reason in rejected:
        outcomes.setdefault(line, []).append(reason)
    # every line number exactly once, in either table
    assert sorted(outcomes) == list(range(1, len(outcomes) + 1))
    assert all(len(found) == 1 for found in outcomes.values()), outcomes
    return [outcomes[n][0] for n in sorted(outcomes)], recorded_lines, files


def assert_as_the_oracle_classifies(data: bytes) -> None:
    outcomes, recorded_lines, files = ingest(data)
    expected = classify_file(data, ARRIVAL)
    assert files == 1
    assert recorded_lines == len(expected)
    assert outcomes == expected


@FUZZ
@given(st.binary(max_size=2000))
def test_random_bytes_are_each_loaded_or_quarantined_as_the_oracle_says(data):
    assert_as_the_oracle_classifies(data)


@FUZZ
@given(st.lists(st.text(max_size=200).filter(lambda t: "\n" not in t), max_size=30))
def test_random_text_lines_are_each_loaded_or_quarantined_as_the_oracle_says(lines):
    assert_as_the_oracle_classifies("\n".join(lines).encode())


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@FUZZ
@given(st.lists(st.dictionaries(st.sampled_from(list(VALID)), json_values), max_size=20))
def test_events_with_arbitrary_field_values_are_loaded_or_quarantined_as_the_oracle_says(events):
    lines = [json.dumps({**VALID, **event}, allow_nan=True) for event in events]
    assert_as_the_oracle_classifies("\n".join(lines).encode())


# Lines laid out as a producer writes them, which the loader reads the short way when they
# match `contract.PRODUCER_LINE_PATTERN`: any ids, any status, amounts up to 16 digits as
# numbers or strings (and numerals just off the short way's shape), and times in the
# contract's layouts (with or without seconds, any offset spelling) that may be no real
# instant (then off the pattern, or not), before the order was placed, or far after the file
# arrived.
plain_text = st.text(
    st.characters(exclude_characters='"\\', exclude_categories=("Cc", "Cs")), min_size=1
)
shaped_amount = st.from_regex(r"(0|[1-9][0-9]{0,15})(\.[0-9]{1,2})?", fullmatch=True)
near_amount = st.from_regex(r"[+-]?[0-9]{1,18}(\.[0-9]{0,3})?", fullmatch=True)
any_shaped_time = st.from_regex(
    r"[0-9]{4}-[0-1][0-9]-[0-3][0-9][T ][0-2][0-9]:[0-5][0-9](:[0-6][0-9](\.[0-9]{1,7})?)?"
    r"(Z|[+-][0-2][0-9]:?[0-6][0-9])",
    fullmatch=True,
)
OFFSETS = st.sampled_from([UTC, *(timezone(timedelta(minutes=m)) for m in (-570, -300, 330, 840))])
near_arrival = st.builds(
    lambda moment, offset, spec: moment.astimezone(offset).isoformat(timespec=spec),
    st.datetimes(
        min_value=datetime(2026, 3, 18), max_value=datetime(2026, 3, 22), timezones=st.just(UTC)
    ),
    OFFSETS,
    st.sampled_from(["seconds", "minutes", "microseconds"]),
)
shaped_time = near_arrival | any_shaped_time


@st.composite
def producer_lines(draw) -> str:
    values = {
        "event_id": draw(plain_text),
        "order_id": draw(plain_text),
        "customer_id": draw(plain_text),
        "status": draw(st.sampled_from(STATUSES)),
        "order_placed_at": draw(shaped_time),
        "event_time": draw(shaped_time),
    }
    amount = draw(shaped_amount | near_amount)
    if draw(st.booleans()):
        amount = f'"{amount}"'
    line = json.dumps(values, ensure_ascii=False, separators=(",", ":"))
    return line.replace(',"order_placed_at"', f',"amount":{amount},"order_placed_at"')


@FUZZ
@given(st.lists(producer_lines(), max_size=20))
def test_producer_shaped_lines_are_each_loaded_or_quarantined_as_the_oracle_says(lines):
    assert_as_the_oracle_classifies("\n".join(lines).encode())


# Times an engine's cast would read, though they name no instant a producer can mean.
STRETCHED_TIMES = (
    "0000-01-10T00:00:00Z",  # year 0
    "2026-03-19T24:00:00Z",  # hour 24
    "2026-03-19T10:00:00+24:00",  # an offset of a day
    "2026-03-19T10:00:00+23:60",
    "2026-03-19T10:00:00.1234567Z",  # below a microsecond
    "0001-01-01T00:30:00+01:00",  # before year 1 in UTC
    "9999-12-31T23:30:00-01:00",  # after year 9999 in UTC
)


def test_times_an_engine_would_stretch_are_invalid_in_every_line_shape():
    producer_shaped = json.dumps(VALID, separators=(",", ":")).replace('"12.50"', "12.50")
    assert re.fullmatch(PRODUCER_LINE_PATTERN, producer_shaped, flags=re.ASCII)
    lines = [
        line.replace(VALID["order_placed_at"], time)
        for time in STRETCHED_TIMES
        for line in (producer_shaped, json.dumps(VALID))
    ]
    assert_as_the_oracle_classifies("\n".join(lines).encode())
    assert ingest("\n".join(lines).encode())[0] == ["invalid_timestamp"] * len(lines)


# Amounts sent as strings that an engine's cast would read, or that sit on the edge of the
# short way's shape: only plain decimal numerals are numeric strings.
BORDERLINE_AMOUNTS = (
    "12.50", "0", "0.5", "-0", "-0.00", "+12", "012", "12.500", "12.5.0", " 12", "12 ", "\t12",
    "12\n", "1e3", "1E3", "12.", ".5", "1_000", "0x10", "NaN", "Infinity", "-Infinity", "",
    "-1", "12.501", "9999999999999999.99", "10000000000000000", "-10000000000000000",
    "1" * 40, "\u0661\u0662",
)  # fmt: skip


def test_borderline_string_amounts_are_classified_as_the_oracle_says_in_every_shape():
    producer_shaped = json.dumps(VALID, separators=(",", ":"))
    lines = [
        line.replace('"12.50"', json.dumps(amount))
        for amount in BORDERLINE_AMOUNTS
        for line in (producer_shaped, json.dumps(VALID))
    ]
    assert_as_the_oracle_classifies("\n".join(lines).encode())
    outcomes = ingest("\n".join(lines).encode())[0]
    assert outcomes[:2] == [None, None]  # "12.50", which takes the short way
    assert outcomes[BORDERLINE_AMOUNTS.index(" 12") * 2] == "invalid_amount"


def test_producer_lines_with_string_amounts_and_offsets_take_the_short_way():
    producer_shaped = json.dumps(VALID, separators=(",", ":"))
    for line in (
        producer_shaped,
        producer_shaped.replace('"12.50"', "12.5"),
        producer_shaped.replace("11:05:00+01:00", "11:05+0100"),
        producer_shaped.replace("T11:05:00", " 11:05:00.123456"),
    ):
        assert re.fullmatch(PRODUCER_LINE_PATTERN, line, flags=re.ASCII), line
    for amount in ("12.500", "012", "-0", " 12", "1e3", "12."):
        line = producer_shaped.replace('"12.50"', json.dumps(amount))
        assert not re.fullmatch(PRODUCER_LINE_PATTERN, line, flags=re.ASCII), line


def test_hostile_lines_are_each_quarantined_with_a_reason():
    hostile = [
        "x" * 2_000_000,  # an enormous line
        "",  # a blank line in the middle
        "[" * 5000 + "]" * 5000,  # deeply nested
        json.dumps({**VALID, "amount": 1e309}).replace("Infinity", "1e309"),
        json.dumps({**VALID, "amount": float("nan")}),
        json.dumps({**VALID, "event_time": "2026-03-19T10:05:00"}),  # no offset
        '{"only": "a header-like line"}',
    ]
    data = "\n".join(hostile).encode()
    assert_as_the_oracle_classifies(data)
    outcomes, _, _ = ingest(data)
    assert None not in outcomes


def test_lines_off_the_common_shape_are_classified_as_the_oracle_says():
    # the loader takes shortcuts for lines shaped like a producer's; these are not
    valid = json.dumps(VALID)
    lines = [
        "  " + valid,  # an object after whitespace
        "\t" + valid + "  ",
        json.dumps([VALID]),  # an array holding an event
        json.dumps(json.dumps(VALID)),  # an event serialized twice: a string
        json.dumps({**VALID, "event_id": 17}),  # a number where a string is required
        json.dumps({**VALID, "event_id": 'e-"quoted"\\slash\u00e9'}),  # escapes in a string
        json.dumps({**VALID, "customer_id": "Nancy Infante"}),  # NaN and Inf inside strings
        json.dumps({**VALID, "note": float("inf")}),  # Infinity outside the fields read
        json.dumps({**VALID, "amount": "12.50"}),  # an amount as a string
        "\r\n",  # whitespace only
    ]
    assert_as_the_oracle_classifies("\n".join(lines).encode())


def test_a_line_that_is_not_utf8_is_quarantined_as_such():
    valid = json.dumps(VALID).encode()
    outcomes, _, _ = ingest(valid + b"\n\xff\xfe\n" + valid.replace(b"e-1", b"e-2"))
    assert outcomes == [None, INVALID_UTF8, None]


def test_minus_zero_is_a_valid_amount():
    outcomes, _, _ = ingest(json.dumps({**VALID, "amount": -0.0}).encode())
    assert outcomes == [None]


def test_an_empty_file_is_recorded_with_no_lines():
    assert ingest(b"") == ([], 0, 1)
