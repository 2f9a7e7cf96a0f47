"""Property-based tests: whatever a producer ships, ingestion never crashes or loses a line.

Hypothesis runs derandomized, so CI sees the same inputs every time; the invariant checked
for each generated file is the one the nothing-lost check enforces in production:
lines = rows loaded + rows rejected, and the file is recorded as loaded.
"""

import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orders_platform.ingestion.loader import load_new_files

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


def expected_lines(data: bytes) -> int:
    chunks = data.split(b"\n")
    return len(chunks) - 1 if chunks[-1] == b"" else len(chunks)


def ingest(data: bytes) -> tuple[int, int, int, int]:
    """(lines recorded, loaded rows, rejected rows, files recorded) for one file of `data`."""
    with tempfile.TemporaryDirectory() as tmp:
        landing = Path(tmp) / "landing"
        landing.mkdir()
        (landing / "fuzz.jsonl").write_bytes(data)
        conn = duckdb.connect(str(Path(tmp) / "w.duckdb"))
        try:
            load_new_files(conn, landing, ingested_at=ARRIVAL)
            return conn.execute(
                """
                select
                    (select coalesce(sum(line_count), 0) from orders_landing_files),
                    (select count(*) from orders_landing),
                    (select count(*) from orders_rejected),
                    (select count(*) from orders_landing_files)
                """
            ).fetchone()
        finally:
            conn.close()


def assert_nothing_lost(data: bytes) -> None:
    lines, loaded, rejected, files = ingest(data)
    assert files == 1
    assert lines == expected_lines(data) == loaded + rejected


@FUZZ
@given(st.binary(max_size=2000))
def test_random_bytes_never_crash_and_never_lose_a_line(data):
    assert_nothing_lost(data)


@FUZZ
@given(st.lists(st.text(max_size=200).filter(lambda t: "\n" not in t), max_size=30))
def test_random_text_lines_never_crash_and_never_lose_a_line(lines):
    assert_nothing_lost("\n".join(lines).encode())


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@FUZZ
@given(st.lists(st.dictionaries(st.sampled_from(list(VALID)), json_values), max_size=20))
def test_events_with_arbitrary_field_values_are_loaded_or_quarantined(events):
    lines = [json.dumps({**VALID, **event}, allow_nan=True) for event in events]
    assert_nothing_lost("\n".join(lines).encode())


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
    lines, loaded, rejected, _ = ingest(data)
    assert (lines, loaded, rejected) == (len(hostile), 0, len(hostile))


def test_minus_zero_is_a_valid_amount():
    _, loaded, rejected, _ = ingest(json.dumps({**VALID, "amount": -0.0}).encode())
    assert (loaded, rejected) == (1, 0)


def test_an_empty_file_is_recorded_with_no_lines():
    assert ingest(b"") == (0, 0, 0, 1)
