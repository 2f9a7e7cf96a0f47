"""The benchmark's traffic, generated in DuckDB SQL, has production's shape (`TrafficShape`).

One small traffic (30 days, hourly files) is generated once for the module (and once more,
to compare bytes). Each share is checked against its parameter with a tolerance of several
standard errors at this size, so a correct generator meets it whatever its seed and a
generator that drops a feature does not. Then the platform's own loader reads every file,
and every line's outcome is the one the contract gives it.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from benchmarks.floor import floor_ingest
from benchmarks.volume import Generated, TrafficShape, file_name, write_arrival_files
from orders_platform.ingestion.contract import STATUSES
from orders_platform.ingestion.loader import load_new_files
from orders_platform.resources.warehouse import connect_warehouse
from orders_platform.synthetic.traffic import MALFORMED_KINDS, OFFSETS

END_DATE = date(2026, 3, 30)
DAYS = 30
EVENTS_PER_DAY = 4_000
SHAPE = TrafficShape()

# A well-formed line as the producers write it: compact JSON, the contract's fields in
# order, the ids in their formats, the amount a JSON number (43.1, 33.0) or a numeric string
# with two decimals ("43.10"), times to the second with a UTC offset.
_STAMP = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}"
PRODUCER_LINE = re.compile(
    r'\{"event_id":"(?P<event_id>[0-9a-f]{16})","order_id":"(?P<order_id>o-\d{8}-\d{6})",'
    rf'"customer_id":"c-\d{{5}}","status":"(?P<status>{"|".join(STATUSES)})",'
    r'"amount":(?P<amount>(0|[1-9]\d*)\.(\d|\d[1-9])|"(0|[1-9]\d*)\.\d\d"),'
    rf'"order_placed_at":"(?P<order_placed_at>{_STAMP})","event_time":"(?P<event_time>{_STAMP})"\}}',
    flags=re.ASCII,
)
# What the loader says of each malformation (contract.REJECT_REASONS).
REASON_OF = {
    "truncated": "malformed_json",
    "missing_order_id": "missing_id",
    "negative_amount": "negative_amount",
    "unknown_status": "unknown_status",
    "no_offset": "invalid_timestamp",
}


@dataclass(frozen=True)
class Line:
    """A well-formed line, where it is, and the hour its file's lines arrived in."""

    file: str
    number: int  # 1-based, in its file
    arrived_hour: datetime
    text: str
    event_id: str
    order_id: str
    status: str
    amount: str  # as written: a JSON number or a quoted numeric string
    order_placed_at: datetime
    event_time: datetime

    @classmethod
    def parse(cls, file: str, number: int, arrived_hour: datetime, text: str) -> Line | None:
        """The line's fields, or None if it is not laid out as the producers write lines."""
        match = PRODUCER_LINE.fullmatch(text)
        if match is None:
            return None
        fields = match.groupdict()
        return cls(
            file=file,
            number=number,
            arrived_hour=arrived_hour,
            text=text,
            event_id=fields["event_id"],
            order_id=fields["order_id"],
            status=fields["status"],
            amount=fields["amount"],
            order_placed_at=datetime.fromisoformat(fields["order_placed_at"]),
            event_time=datetime.fromisoformat(fields["event_time"]),
        )

    @property
    def placed_day(self) -> date:
        return self.order_placed_at.astimezone(UTC).date()

    @property
    def event_day(self) -> date:
        return self.event_time.astimezone(UTC).date()

    @property
    def id_day(self) -> date:
        """The day the order was first placed on: `o-YYYYMMDD-NNNNNN`."""
        return date.fromisoformat(self.order_id[2:10])

    @property
    def late_by(self) -> timedelta:
        """At least how late it landed: its file's hour against when it happened."""
        return self.arrived_hour - self.event_time


@dataclass(frozen=True)
class Traffic:
    generated: Generated
    wellformed: list[Line]
    malformed: list[tuple[str, int, str]]  # file, line number, text
    orders: dict[str, list[Line]]

    def snapshots(self, order_id: str) -> list[Line]:
        """The order's distinct snapshots (retries left out), in business time."""
        unique = {line.event_id: line for line in self.orders[order_id]}
        return sorted(unique.values(), key=lambda line: line.event_time)


def _generate(outbox: Path) -> Generated:
    return write_arrival_files(outbox, end_date=END_DATE, days=DAYS, events_per_day=EVENTS_PER_DAY)


@pytest.fixture(scope="module")
def traffic(tmp_path_factory: pytest.TempPathFactory) -> Traffic:
    generated = _generate(tmp_path_factory.mktemp("traffic") / "outbox")
    wellformed, malformed = [], []
    orders: dict[str, list[Line]] = defaultdict(list)
    for path in generated.files:
        hour = datetime.strptime(path.name, "arrivals-%Y-%m-%dT%H.jsonl").replace(tzinfo=UTC)
        text = path.read_text(encoding="utf-8")
        assert text.endswith("\n"), path
        for number, raw in enumerate(text.removesuffix("\n").split("\n"), start=1):
            line = Line.parse(path.name, number, hour, raw)
            if line is None:
                malformed.append((path.name, number, raw))
            else:
                wellformed.append(line)
                orders[line.order_id].append(line)
    return Traffic(generated, wellformed, malformed, orders)


def test_the_traffic_has_the_requested_volume_in_hourly_files(traffic):
    lines = len(traffic.wellformed) + len(traffic.malformed)
    assert traffic.generated.lines == lines
    assert abs(lines / (DAYS * EVENTS_PER_DAY) - 1) < 0.04
    first = datetime.combine(END_DATE - timedelta(days=DAYS - 1), time(), UTC)
    hours = [first + timedelta(hours=h) for h in range(24 * DAYS)]
    assert [path.name for path in traffic.generated.files] == [file_name(h) for h in hours]


def test_every_wellformed_line_is_laid_out_as_the_producers_write_it(traffic):
    for line in traffic.wellformed:
        assert json.dumps(json.loads(line.text), separators=(",", ":")) == line.text
    assert len(traffic.wellformed) > 0.99 * traffic.generated.lines


def test_half_the_amounts_are_numeric_strings(traffic):
    strings = sum(line.amount.startswith('"') for line in traffic.wellformed)
    assert strings / len(traffic.wellformed) == pytest.approx(SHAPE.string_amount_share, abs=0.01)


def test_times_carry_the_devices_utc_offsets(traffic):
    offsets = Counter(line.event_time.utcoffset() for line in traffic.wellformed)
    assert set(offsets) == {offset.utcoffset(None) for offset in OFFSETS}


def test_each_malformed_line_is_one_of_the_generators_malformations(traffic):
    def malformation(text: str) -> str:
        try:
            record = json.loads(text)
        except json.JSONDecodeError:
            return "truncated"
        if "order_id" not in record:
            return "missing_order_id"
        if record["amount"] == -1.5:
            return "negative_amount"
        if record["status"] == "teleported":
            return "unknown_status"
        if len(record["event_time"]) == len("2026-03-30T12:00:00"):
            return "no_offset"
        return f"unexplained: {text}"

    kinds = Counter(malformation(text) for _, _, text in traffic.malformed)
    assert set(kinds) == set(MALFORMED_KINDS)
    share = len(traffic.malformed) / traffic.generated.lines
    expected = SHAPE.malformed_share / (1 + SHAPE.retry_share + SHAPE.malformed_share)
    assert share == pytest.approx(expected, rel=0.3)


def test_retries_repeat_two_percent_of_the_events_exactly(traffic):
    texts: dict[str, set[str]] = defaultdict(set)
    for line in traffic.wellformed:
        texts[line.event_id].add(line.text)
    assert all(len(variants) == 1 for variants in texts.values())  # byte for byte
    ids = Counter(line.event_id for line in traffic.wellformed)
    retries = sum(ids.values()) - len(ids)
    assert retries / len(ids) == pytest.approx(SHAPE.retry_share, abs=0.0015)
    assert max(ids.values()) == 2


def test_orders_send_one_to_four_snapshots_two_and_a_half_on_average(traffic):
    # orders old enough to have sent every snapshot, not re-dated (those send one more)
    settled = [
        traffic.snapshots(order_id)
        for order_id, lines in traffic.orders.items()
        if lines[0].id_day <= END_DATE - timedelta(days=7)
        and len({line.order_placed_at for line in lines}) == 1
    ]
    counts = Counter(len(snapshots) for snapshots in settled)
    assert set(counts) == set(range(1, SHAPE.max_snapshots + 1))
    for count in counts.values():
        assert count / len(settled) == pytest.approx(1 / SHAPE.max_snapshots, abs=0.02)
    assert sum(len(s) for s in settled) / len(settled) == pytest.approx(2.5, abs=0.03)
    last = Counter(snapshots[-1].status for snapshots in settled if len(snapshots) > 1)
    assert last["cancelled"] / sum(last.values()) == pytest.approx(0.05, abs=0.006)


def test_a_few_orders_are_redated_to_another_day_by_a_later_snapshot(traffic):
    redated = []
    for order_id in traffic.orders:
        snapshots = traffic.snapshots(order_id)
        if len({line.order_placed_at for line in snapshots}) > 1:
            redated.append(snapshots)
    assert len(redated) / len(traffic.orders) == pytest.approx(SHAPE.redate_share, abs=0.001)
    for snapshots in redated:
        *earlier, latest = snapshots
        assert {line.placed_day for line in earlier} == {snapshots[0].id_day}
        assert abs((latest.placed_day - latest.id_day).days) == 1


def test_the_late_tail_lands_on_later_days_some_past_two_weeks(traffic):
    # a late event of the last day cannot land later than the end of that day (now)
    before_last_day = [line for line in traffic.wellformed if line.event_day < END_DATE]
    late = sum(line.arrived_hour.date() > line.event_day for line in before_last_day)
    assert late / len(before_last_day) == pytest.approx(SHAPE.late_share, abs=0.006)
    # events that had 25 days to land: the weeks-late tail is not cut off by now
    old = [line for line in traffic.wellformed if line.event_day <= END_DATE - timedelta(days=26)]
    weeks_late = sum(line.late_by > timedelta(days=14) for line in old)
    assert weeks_late / len(old) == pytest.approx(SHAPE.weeks_late_share, rel=0.35)
    assert max(line.late_by for line in traffic.wellformed) < timedelta(days=25)


def test_nothing_happens_or_arrives_after_now(traffic):
    now = traffic.generated.now
    assert now == datetime.combine(END_DATE + timedelta(days=1), time(), tzinfo=UTC)
    assert max(line.event_time for line in traffic.wellformed) <= now
    # none lands before its event happened (its file's hour is the hour it landed in)
    assert all(line.late_by > -timedelta(hours=1) for line in traffic.wellformed)


def test_the_same_arguments_give_byte_identical_files(traffic, tmp_path):
    again = _generate(tmp_path / "outbox")
    assert [path.name for path in again.files] == [path.name for path in traffic.generated.files]
    for first, second in zip(traffic.generated.files, again.files, strict=True):
        assert first.read_bytes() == second.read_bytes(), first.name


def test_every_line_meets_the_outcome_the_contract_gives_it(traffic, tmp_path):
    outbox = traffic.generated.files[0].parent
    with connect_warehouse(tmp_path / "warehouse.duckdb") as conn:
        report = load_new_files(conn, outbox, ingested_at=traffic.generated.now)
        landed = {
            (file, number): (event_id, amount, is_retry)
            for file, number, event_id, amount, is_retry in conn.execute(
                "select source_file, source_line_number, event_id, amount, is_retry "
                "from orders_landing"
            ).fetchall()
        }
        rejected = dict(
            ((file, number), reason)
            for file, number, reason in conn.execute(
                "select source_file, source_line_number, reason from orders_rejected"
            ).fetchall()
        )
    assert report.lines == traffic.generated.lines
    # every well-formed line is loaded with its amount, whether a number or a string
    assert len(landed) == len(traffic.wellformed)
    for line in traffic.wellformed:
        event_id, amount, _ = landed[(line.file, line.number)]
        assert (event_id, amount) == (line.event_id, Decimal(line.amount.strip('"'))), line.text
    # of each event sent twice, exactly one copy is the retry
    retried = Counter(event_id for event_id, _, is_retry in landed.values() if is_retry)
    sent = Counter(line.event_id for line in traffic.wellformed)
    assert retried == Counter({event_id: n - 1 for event_id, n in sent.items() if n > 1})
    # and every malformed line is quarantined with its reason
    expected = {}
    for file, number, text in traffic.malformed:
        try:
            record = json.loads(text)
        except json.JSONDecodeError:
            kind = "truncated"
        else:
            kind = next(
                kind
                for kind, broken in (
                    ("missing_order_id", "order_id" not in record),
                    ("negative_amount", record.get("amount") == -1.5),
                    ("unknown_status", record.get("status") == "teleported"),
                    ("no_offset", True),
                )
                if broken
            )
        expected[(file, number)] = REASON_OF[kind]
    assert rejected == expected


def test_the_ingestion_floor_gives_the_loaders_outcome(traffic, tmp_path):
    # the floor's ingestion does the contract's work on this traffic, so its rate compares
    outbox = traffic.generated.files[0].parent
    with connect_warehouse(tmp_path / "loader.duckdb") as conn:
        report = load_new_files(conn, outbox, ingested_at=traffic.generated.now)
    with connect_warehouse(tmp_path / "floor.duckdb") as conn:
        loaded, rejected = floor_ingest(conn, [str(path) for path in traffic.generated.files])
        reasons = dict(
            conn.execute(
                "select reason, count(*) from floor_landing where reason is not null group by 1"
            ).fetchall()
        )
        (retries,) = conn.execute("select count(*) from floor_landing where is_retry").fetchone()
    assert (loaded, rejected, retries) == (report.loaded, report.rejected, report.retries)
    assert reasons == dict(report.rejected_by_reason)
