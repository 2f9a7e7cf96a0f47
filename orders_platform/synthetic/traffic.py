"""Seeded, realistic mobile-SDK order traffic written as hourly landing files.

Each order goes through snapshots (placed, paid, shipped, delivered; some cancelled or
refunded); each snapshot reaches the warehouse after a heavy-tailed delay (most within
minutes, a slice hours or days late, a few more than 14 days late). The SDK retries some
events (same event_id and payload), a few orders get a late correction that re-dates them,
devices report in several UTC offsets, and a few lines are malformed.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

from orders_platform.resources.landing import write_complete_file

OFFSETS = [
    timezone(timedelta(hours=h, minutes=m))
    for h, m in ((0, 0), (2, 0), (-5, 0), (5, 30), (-8, 0), (9, 0))
]

MALFORMED_KINDS = (
    "truncated",
    "missing_order_id",
    "negative_amount",
    "unknown_status",
    "no_offset",
)


@dataclass(frozen=True)
class TrafficSpec:
    """What to generate. `end_date` is the last order date (inclusive)."""

    end_date: date
    days: int = 30
    orders_per_day: int = 200
    seed: int = 2187
    retry_share: float = 0.02
    redate_share: float = 0.01
    malformed_share: float = 0.002


@dataclass(frozen=True)
class Arrival:
    """One line and when it reaches the landing zone."""

    arrived_at: datetime  # aware, UTC
    line: str


def _delay(rng: random.Random) -> timedelta:
    """Heavy-tailed arrival delay: minutes for most events, up to weeks for a few."""
    u = rng.random()
    if u < 0.90:
        return timedelta(seconds=rng.uniform(1, 300))
    if u < 0.97:
        return timedelta(minutes=rng.uniform(5, 360))
    if u < 0.995:
        return timedelta(hours=rng.uniform(6, 72))
    if u < 0.999:
        return timedelta(days=rng.uniform(3, 14))
    return timedelta(days=rng.uniform(14, 25))


def _stamp(moment: datetime, offset: timezone) -> str:
    return moment.astimezone(offset).isoformat(timespec="seconds")


def event_line(
    event_id: str, order: dict[str, object], status: str, at: datetime, offset: timezone = UTC
) -> str:
    """One SDK event: a snapshot of `order` (order_id, customer_id, amount, placed_at) in
    `status` at business time `at`, stamped in the device's UTC `offset`."""
    return json.dumps(
        {
            "event_id": event_id,
            "order_id": order["order_id"],
            "customer_id": order["customer_id"],
            "status": status,
            "amount": order["amount"],
            "order_placed_at": _stamp(order["placed_at"], offset),  # type: ignore[arg-type]
            "event_time": _stamp(at, offset),
        },
        separators=(",", ":"),
    )


def _lifecycle(rng: random.Random, placed_at: datetime) -> list[tuple[str, datetime]]:
    """The snapshots one order goes through, in business time."""
    steps = [("placed", placed_at)]
    if rng.random() < 0.05:
        return [*steps, ("cancelled", placed_at + timedelta(minutes=rng.uniform(1, 120)))]
    paid = placed_at + timedelta(minutes=rng.uniform(0.5, 30))
    steps.append(("paid", paid))
    shipped = paid + timedelta(hours=rng.uniform(6, 48))
    steps.append(("shipped", shipped))
    delivered = shipped + timedelta(hours=rng.uniform(24, 96))
    steps.append(("delivered", delivered))
    if rng.random() < 0.03:
        steps.append(("refunded", delivered + timedelta(hours=rng.uniform(2, 96))))
    return steps


def _malformed(rng: random.Random, line: str) -> str:
    kind = rng.choice(MALFORMED_KINDS)
    record = json.loads(line)
    if kind == "truncated":
        return line[: len(line) // 2]
    if kind == "missing_order_id":
        del record["order_id"]
    elif kind == "negative_amount":
        record["amount"] = -1.5
    elif kind == "unknown_status":
        record["status"] = "teleported"
    else:
        record["event_time"] = record["event_time"][:19]
    return json.dumps(record, separators=(",", ":"))


def generate(spec: TrafficSpec, *, now: datetime) -> Iterator[Arrival]:
    """Every line the devices send for `spec`, with arrival times; nothing after `now`."""
    rng = random.Random(spec.seed)
    first_day = spec.end_date - timedelta(days=spec.days - 1)
    for day_index in range(spec.days):
        day = first_day + timedelta(days=day_index)
        midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
        for n in range(spec.orders_per_day):
            placed_at = midnight + timedelta(seconds=rng.uniform(0, 86_399))
            order = {
                "order_id": f"o-{day:%Y%m%d}-{n:06d}",
                "customer_id": f"c-{rng.randrange(1, 50_000):05d}",
                "amount": round(rng.lognormvariate(3.5, 0.8), 2),
                "placed_at": placed_at,
            }
            offset = rng.choice(OFFSETS)
            steps = _lifecycle(rng, placed_at)
            if rng.random() < spec.redate_share:
                # a device clock correction: the order was really placed a day earlier/later
                moved = placed_at + timedelta(days=rng.choice((-1, 1)))
                order = {**order, "placed_at": moved}
                steps.append((steps[-1][0], max(steps[-1][1], moved) + timedelta(hours=1)))
            for status, at in steps:
                if at > now:
                    break
                line = event_line(f"{rng.getrandbits(64):016x}", order, status, at, offset)
                arrived = min(at + _delay(rng), now)
                yield Arrival(arrived, line)
                if rng.random() < spec.retry_share:
                    yield Arrival(min(arrived + _delay(rng), now), line)
                if rng.random() < spec.malformed_share:
                    yield Arrival(arrived, _malformed(rng, line))


def hourly_batches(arrivals: Iterator[Arrival]) -> dict[datetime, list[str]]:
    """Group lines by the hour they arrive in; a batch lands at the end of its hour."""
    batches: dict[datetime, list[str]] = defaultdict(list)
    for arrival in arrivals:
        hour = arrival.arrived_at.replace(minute=0, second=0, microsecond=0)
        batches[hour + timedelta(hours=1)].append(arrival.line)
    return dict(sorted(batches.items()))


def batch_file_name(lands_at: datetime) -> str:
    return f"orders-{lands_at:%Y-%m-%dT%H}.jsonl"


def write_batch(directory: Path, name: str, lines: list[str]) -> Path:
    """Write a complete landing file the way producers must: to `*.tmp`, then rename."""
    return write_complete_file(directory / name, lines)
