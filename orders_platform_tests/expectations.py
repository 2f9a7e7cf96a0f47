"""independent oracle: recompute what the warehouse must hold from raw landing files.

written from the event contract alone (not from the platform's code), so a
disagreement between the two points at a real bug on one side. standard library
only; amounts are exact decimals, timestamps are compared as utc instants.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Context, Decimal
from typing import Any

from .fixtures.late_events import LandingFile

__all__ = [
    "REASON_CODES",
    "STATUSES",
    "DayTotals",
    "Expectations",
    "ExpectedOrder",
    "Snapshot",
    "classify_file",
    "classify_line",
    "expected_from",
    "parse_amount",
    "parse_line",
    "parse_timestamp",
    "split_lines",
]

UTC = UTC

# contract order: the first failing check names the reason.
REASON_CODES: tuple[str, ...] = (
    "blank_line",
    "malformed_json",
    "missing_id",
    "unknown_status",
    "invalid_amount",
    "negative_amount",
    "invalid_timestamp",
    "event_time_before_order_placed",
    "event_time_after_arrival",
)
# checked before all of the above, on a line's bytes: a line that is not utf-8 text.
INVALID_UTF8 = "invalid_utf8"
STATUSES: frozenset[str] = frozenset(
    {"placed", "paid", "shipped", "delivered", "cancelled", "refunded"}
)
_NOT_REVENUE = frozenset({"cancelled", "refunded"})
_MAX_AHEAD_OF_ARRIVAL = timedelta(hours=24)
_CENT = Decimal("0.01")
# what a blank line may hold: ascii whitespace only (not unicode spaces such as u+0085)
_ASCII_WHITESPACE = " \t\n\f\r"
# money is stored as decimal(18, 2): amounts of 10^16 or more do not fit
_AMOUNT_LIMIT = Decimal(10) ** 16

# iso-8601 with a mandatory offset; ascii digits only (\d would admit other scripts).
_TIMESTAMP = re.compile(
    r"(?P<y>[0-9]{4})-(?P<mo>[0-9]{2})-(?P<d>[0-9]{2})[T ]"
    r"(?P<h>[0-9]{2}):(?P<mi>[0-9]{2})"
    r"(?::(?P<s>[0-9]{2})(?:\.(?P<f>[0-9]{1,6}))?)?"
    r"(?P<tz>Z|[+-][0-9]{2}:?[0-9]{2})"
)
# numeric strings: optional sign, digits, optional fraction; no spaces, exponents, "_".
_NUMERIC_STRING = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")


@dataclass(frozen=True)
class DayTotals:
    """one row of the per-order_date mart."""

    order_date: date
    orders: int
    net_revenue: Decimal
    cancelled_orders: int
    refunded_amount: Decimal


@dataclass(frozen=True)
class ExpectedOrder:
    """the winning snapshot of one order; datetimes are naive utc."""

    order_id: str
    customer_id: str
    status: str
    amount: Decimal
    order_placed_at: datetime
    order_date: date
    event_id: str
    event_time: datetime


@dataclass(frozen=True)
class Expectations:
    """everything the tests compare the warehouse against."""

    orders: dict[str, ExpectedOrder]
    days: dict[date, DayTotals]
    loaded_lines: int
    retry_lines: int
    rejected: dict[str, int]
    per_file: dict[str, tuple[int, int, int]]


@dataclass(frozen=True)
class Snapshot:
    """a valid, parsed event line; datetimes are aware utc."""

    event_id: str
    order_id: str
    customer_id: str
    status: str
    amount: Decimal
    order_placed_at: datetime
    event_time: datetime


class _NonStandardConstant(ValueError):
    """raised for NaN / Infinity literals, which strict json does not allow."""


def _reject_constant(name: str) -> Any:
    """json.loads hook: NaN/Infinity literals make the line malformed_json."""
    raise _NonStandardConstant(name)


def parse_timestamp(value: Any) -> datetime | None:
    """strict iso-8601 with an offset -> aware utc datetime, else None."""
    if not isinstance(value, str):
        return None
    m = _TIMESTAMP.fullmatch(value)
    if m is None:
        return None
    tz = m["tz"]
    if tz == "Z":
        offset = timedelta(0)
    else:
        digits = tz[1:].replace(":", "")
        if len(digits) != 4:
            return None
        hours, minutes = int(digits[:2]), int(digits[2:])
        if hours > 23 or minutes > 59:
            return None
        offset = timedelta(hours=hours, minutes=minutes)
        if tz[0] == "-":
            offset = -offset
    fraction = m["f"] or ""
    try:
        local = datetime(
            int(m["y"]),
            int(m["mo"]),
            int(m["d"]),
            int(m["h"]),
            int(m["mi"]),
            int(m["s"] or 0),
            int(fraction.ljust(6, "0")) if fraction else 0,
            tzinfo=timezone(offset),
        )
        return local.astimezone(UTC)
    except ValueError:  # 2026-02-30, hour 24, second 60 ...
        return None
    except OverflowError:  # 0001-01-01T00:30+01:00 is no instant of years 1-9999 in UTC
        return None


def _decimal_places(value: Decimal) -> int:
    """decimal places that carry a non-zero digit (12.50 -> 1), computed exactly."""
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    trimmed = list(digits)
    while exponent < 0 and len(trimmed) > 1 and trimmed[-1] == 0:
        trimmed.pop()
        exponent += 1
    if trimmed == [0]:
        return 0
    return max(0, -exponent)


def parse_amount(value: Any) -> Decimal | None:
    """json number or numeric string with at most 2 decimals -> Decimal, else None.

    "at most 2 decimal places" is judged on the value (12.500 is 12.50), since the
    amount is money in cents; the fixture never relies on that edge.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, Decimal):
        amount = value
    elif isinstance(value, float):
        amount = Decimal(repr(value))
    elif isinstance(value, str):
        if _NUMERIC_STRING.fullmatch(value) is None:
            return None
        amount = Decimal(value)
    else:
        return None
    if not amount.is_finite() or _decimal_places(amount) > 2 or abs(amount) >= _AMOUNT_LIMIT:
        return None
    return amount


def _to_cents(amount: Decimal) -> Decimal:
    """exact quantize to cents; -0 becomes 0.00."""
    context = Context(prec=max(28, amount.adjusted() + 4))
    cents = amount.quantize(_CENT, context=context)
    return cents.copy_abs() if cents.is_zero() else cents


def parse_line(raw: str, arrived_at: datetime) -> tuple[str | None, Snapshot | None]:
    """(reason, None) for a rejected line, (None, snapshot) for a valid one."""
    if raw.endswith("\r"):
        raw = raw[:-1]
    if raw.strip(_ASCII_WHITESPACE) == "":
        return "blank_line", None
    try:
        obj = json.loads(raw, parse_float=Decimal, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return "malformed_json", None
    if not isinstance(obj, dict):
        return "malformed_json", None
    ids = [obj.get(key) for key in ("event_id", "order_id", "customer_id")]
    if any(not isinstance(v, str) or v == "" for v in ids):
        return "missing_id", None
    status = obj.get("status")
    if not isinstance(status, str) or status not in STATUSES:
        return "unknown_status", None
    amount = parse_amount(obj.get("amount"))
    if amount is None:
        return "invalid_amount", None
    if amount < 0:
        return "negative_amount", None
    placed = parse_timestamp(obj.get("order_placed_at"))
    event_time = parse_timestamp(obj.get("event_time"))
    if placed is None or event_time is None:
        return "invalid_timestamp", None
    if event_time < placed:
        return "event_time_before_order_placed", None
    arrival = arrived_at if arrived_at.tzinfo else arrived_at.replace(tzinfo=UTC)
    if event_time - arrival > _MAX_AHEAD_OF_ARRIVAL:
        return "event_time_after_arrival", None
    event_id, order_id, customer_id = ids
    return None, Snapshot(
        event_id=event_id,
        order_id=order_id,
        customer_id=customer_id,
        status=status,
        amount=_to_cents(amount),
        order_placed_at=placed,
        event_time=event_time,
    )


def classify_line(raw: str, arrived_at: datetime) -> str | None:
    """reason code for a rejected line, None for a valid one (naive arrival = utc)."""
    return parse_line(raw, arrived_at)[0]


def classify_file(data: bytes, arrived_at: datetime) -> list[str | None]:
    """per line of a landing file's bytes, in order: None (loaded) or its reason code.

    lines are split on \n only (a final newline adds no line); a line that is not valid
    utf-8 is rejected as such before any other check.
    """
    chunks = data.split(b"\n")
    if chunks[-1] == b"":
        chunks.pop()
    outcomes: list[str | None] = []
    for chunk in chunks:
        try:
            text = chunk.decode("utf-8")
        except UnicodeDecodeError:
            outcomes.append(INVALID_UTF8)
            continue
        outcomes.append(classify_line(text, arrived_at))
    return outcomes


def split_lines(text: str) -> list[str]:
    """split on \\n only; a final newline adds no line; one trailing \\r is stripped."""
    parts = text.split("\n")
    if parts and parts[-1] == "":
        parts.pop()
    return [p[:-1] if p.endswith("\r") else p for p in parts]


def _naive_utc(instant: datetime) -> datetime:
    """aware utc -> naive utc, the warehouse's timestamp representation."""
    return instant.astimezone(UTC).replace(tzinfo=None)


def expected_from(files: list[LandingFile]) -> Expectations:
    """replay files in file-name order exactly as the contract describes."""
    names = [f.name for f in files]
    if len(set(names)) != len(names):
        raise ValueError("landing file names must be unique")

    first_copy: dict[str, Snapshot] = {}
    loaded_lines = retry_lines = 0
    rejected: dict[str, int] = {}
    per_file: dict[str, tuple[int, int, int]] = {}

    for landing in sorted(files, key=lambda f: f.name):
        # rebuild the bytes write_files produces, then split as ingestion must.
        lines = split_lines("\n".join(landing.lines) + "\n")
        loaded = bad = 0
        for raw in lines:
            reason, snap = parse_line(raw, landing.arrived_at)
            if reason is not None:
                bad += 1
                rejected[reason] = rejected.get(reason, 0) + 1
                continue
            assert snap is not None
            loaded += 1
            if snap.event_id in first_copy:
                retry_lines += 1  # loaded, but counts once downstream
            else:
                first_copy[snap.event_id] = snap
        loaded_lines += loaded
        per_file[landing.name] = (len(lines), loaded, bad)

    winners: dict[str, Snapshot] = {}
    for snap in first_copy.values():
        best = winners.get(snap.order_id)
        if best is None or (snap.event_time, snap.event_id) > (best.event_time, best.event_id):
            winners[snap.order_id] = snap

    orders = {
        oid: ExpectedOrder(
            order_id=s.order_id,
            customer_id=s.customer_id,
            status=s.status,
            amount=s.amount,
            order_placed_at=_naive_utc(s.order_placed_at),
            order_date=s.order_placed_at.astimezone(UTC).date(),
            event_id=s.event_id,
            event_time=_naive_utc(s.event_time),
        )
        for oid, s in sorted(winners.items())
    }

    days: dict[date, DayTotals] = {}
    for day in sorted({o.order_date for o in orders.values()}):
        todays = [o for o in orders.values() if o.order_date == day]
        days[day] = DayTotals(
            order_date=day,
            orders=len(todays),
            net_revenue=sum(
                (o.amount for o in todays if o.status not in _NOT_REVENUE), Decimal("0.00")
            ),
            cancelled_orders=sum(1 for o in todays if o.status == "cancelled"),
            refunded_amount=sum(
                (o.amount for o in todays if o.status == "refunded"), Decimal("0.00")
            ),
        )

    return Expectations(
        orders=orders,
        days=days,
        loaded_lines=loaded_lines,
        retry_lines=retry_lines,
        rejected={code: rejected[code] for code in REASON_CODES if code in rejected},
        per_file=per_file,
    )
