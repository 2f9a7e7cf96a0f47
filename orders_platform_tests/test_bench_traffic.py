"""The benchmark's traffic, generated in DuckDB SQL: the shape of `synthetic.traffic`.

One small traffic is generated once for the module (and once more, to compare bytes).
Every target below is `generate`'s, derived from `TrafficSpec`'s shares, `_lifecycle` and
`_delay`; each tolerance is several standard errors at this size, so a correct generator
meets it whatever its seed and a generator that drops a feature does not.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

from benchmarks.volume import Generated, arrival_day, write_arrival_files
from orders_platform.ingestion.contract import PRODUCER_LINE_PATTERN, STATUSES
from orders_platform.synthetic.traffic import MALFORMED_KINDS, TrafficSpec

END_DATE = date(2026, 3, 30)
DAYS = 20
EVENTS_PER_DAY = 10_000
SPEC = TrafficSpec(end_date=END_DATE)

# A well-formed line exactly as `traffic._line` writes it: compact JSON, the contract's
# fields in order, the ids in their formats, the amount as Python writes a float rounded to
# cents (43.1, 33.0, 43.05), times to the second with an offset.
_STAMP = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}"
PRODUCER_LINE = re.compile(
    r'\{"event_id":"(?P<event_id>[0-9a-f]{16})","order_id":"(?P<order_id>o-\d{8}-\d{6})",'
    rf'"customer_id":"c-\d{{5}}","status":"(?P<status>{"|".join(STATUSES)})",'
    r'"amount":(0|[1-9]\d*)\.(\d|\d[1-9]),'
    rf'"order_placed_at":"(?P<order_placed_at>{_STAMP})","event_time":"(?P<event_time>{_STAMP})"\}}',
    flags=re.ASCII,
)


@dataclass(frozen=True)
class Line:
    """A well-formed line and the arrival day of the file it is in."""

    arrived_on: date
    text: str
    event_id: str
    order_id: str
    status: str
    order_placed_at: datetime
    event_time: datetime

    @classmethod
    def parse(cls, arrived_on: date, text: str) -> Line | None:
        """The line's fields, or None if it is not laid out as the producers write lines."""
        match = PRODUCER_LINE.fullmatch(text)
        if match is None:
            return None
        fields = match.groupdict()
        return cls(
            arrived_on=arrived_on,
            text=text,
            event_id=fields["event_id"],
            order_id=fields["order_id"],
            status=fields["status"],
            order_placed_at=datetime.fromisoformat(fields["order_placed_at"]),
            event_time=datetime.fromisoformat(fields["event_time"]),
        )

    @property
    def placed_day(self) -> date:
        """The UTC day the order was placed on, after any re-date."""
        return self.order_placed_at.astimezone(UTC).date()

    @property
    def id_day(self) -> date:
        """The day the order was first placed on: `o-YYYYMMDD-NNNNNN`."""
        return date.fromisoformat(self.order_id[2:10])


@dataclass(frozen=True)
class Traffic:
    generated: Generated
    wellformed: list[Line]
    malformed: list[str]
    orders: dict[str, list[Line]]


def _generate(outbox: Path) -> Generated:
    return write_arrival_files(outbox, end_date=END_DATE, days=DAYS, events_per_day=EVENTS_PER_DAY)


@pytest.fixture(scope="module")
def traffic(tmp_path_factory: pytest.TempPathFactory) -> Traffic:
    generated = _generate(tmp_path_factory.mktemp("traffic") / "outbox")
    wellformed, malformed = [], []
    orders: dict[str, list[Line]] = defaultdict(list)
    for path in generated.files:
        text = path.read_text(encoding="utf-8")
        assert text.endswith("\n"), path
        for raw in text.removesuffix("\n").split("\n"):
            line = Line.parse(arrival_day(path), raw)
            if line is None:
                malformed.append(raw)
            else:
                wellformed.append(line)
                orders[line.order_id].append(line)
    return Traffic(generated, wellformed, malformed, orders)


def test_the_traffic_has_the_requested_volume(traffic):
    lines = len(traffic.wellformed) + len(traffic.malformed)
    assert traffic.generated.lines == lines
    assert abs(lines / (DAYS * EVENTS_PER_DAY) - 1) < 0.04


def test_every_wellformed_line_is_laid_out_as_the_producers_write_it(traffic):
    for line in traffic.wellformed:
        assert json.dumps(json.loads(line.text), separators=(",", ":")) == line.text
    assert len(traffic.wellformed) > 0.99 * traffic.generated.lines


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

    kinds = Counter(malformation(text) for text in traffic.malformed)
    assert set(kinds) == set(MALFORMED_KINDS)
    share = len(traffic.malformed) / traffic.generated.lines
    expected = SPEC.malformed_share / (1 + SPEC.retry_share + SPEC.malformed_share)
    assert share == pytest.approx(expected, rel=0.25)


def test_retries_repeat_two_percent_of_the_events(traffic):
    ids = Counter(line.event_id for line in traffic.wellformed)
    retries = sum(ids.values()) - len(ids)
    assert retries / len(ids) == pytest.approx(SPEC.retry_share, abs=0.0015)
    assert max(ids.values()) == 2


def test_one_percent_of_the_orders_are_redated_by_a_day(traffic):
    moves = Counter(
        (lines[0].placed_day - lines[0].id_day).days for lines in traffic.orders.values()
    )
    assert set(moves) == {-1, 0, 1}
    redated = (moves[-1] + moves[1]) / len(traffic.orders)
    assert redated == pytest.approx(SPEC.redate_share, abs=0.002)


def test_five_percent_of_the_orders_are_cancelled_and_three_percent_of_the_rest_refunded(
    traffic,
):
    statuses = {
        order_id: {line.status for line in lines} for order_id, lines in traffic.orders.items()
    }
    cancelled = sum("cancelled" in s for s in statuses.values())
    assert cancelled / len(statuses) == pytest.approx(0.05, abs=0.005)
    assert not any({"cancelled", "paid"} <= s for s in statuses.values())
    # a refund comes at most ~10 days after the order: only older orders have had theirs
    settled = [
        s
        for order_id, s in statuses.items()
        if traffic.orders[order_id][0].id_day <= END_DATE - timedelta(days=11)
    ]
    refunded = sum("refunded" in s for s in settled)
    assert refunded / len(settled) == pytest.approx(0.95 * 0.03, abs=0.005)


def test_a_few_percent_of_orders_arrive_after_their_day_and_a_few_lines_weeks_late(traffic):
    # `_delay` crosses midnight for ~3.8 % of events placed at a uniform time of day; on the
    # last day arrival stops at midnight, so ~3.6 % over 20 days
    placed = [
        line
        for line in traffic.wellformed
        if line.status == "placed" and line.event_time == line.order_placed_at
    ]
    late = sum(line.arrived_on > line.placed_day for line in placed)
    assert late / len(placed) == pytest.approx(0.036, abs=0.005)
    weeks_late = [
        line
        for line in traffic.wellformed
        if line.arrived_on - line.event_time.astimezone(UTC).date() > timedelta(days=14)
    ]
    assert 0 < len(weeks_late) < 0.002 * len(traffic.wellformed)


def test_nothing_happens_or_arrives_after_now(traffic):
    now = traffic.generated.now
    assert now == datetime.combine(END_DATE + timedelta(days=1), time(), tzinfo=UTC)
    assert max(line.arrived_on for line in traffic.wellformed) == END_DATE
    assert max(line.event_time for line in traffic.wellformed) <= now


def test_each_file_holds_the_lines_of_its_arrival_day(traffic):
    first_day = END_DATE - timedelta(days=DAYS - 1)
    assert [path.name for path in traffic.generated.files] == [
        f"arrivals-{first_day + timedelta(days=i)}-c00.jsonl" for i in range(DAYS)
    ]
    # none arrives before its event happened
    for line in traffic.wellformed:
        assert line.event_time < datetime.combine(line.arrived_on + timedelta(days=1), time(), UTC)
    assert min(line.arrived_on for line in traffic.wellformed) == first_day


def test_the_same_arguments_give_byte_identical_files(traffic, tmp_path):
    again = _generate(tmp_path / "outbox")
    assert [path.name for path in again.files] == [path.name for path in traffic.generated.files]
    for first, second in zip(traffic.generated.files, again.files, strict=True):
        assert first.read_bytes() == second.read_bytes(), first.name


def test_every_well_formed_line_takes_the_loaders_short_way(traffic):
    # the benchmark measures ingestion on lines as producers write them
    shaped = re.compile(PRODUCER_LINE_PATTERN, flags=re.ASCII)
    assert all(shaped.fullmatch(line.text) for line in traffic.wellformed)
