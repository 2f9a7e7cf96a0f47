"""The producer contract for order events and the quarantine reasons for lines that break it.

One JSON object per line, each a full snapshot of one order's state. The reasons are stable
codes: dashboards, the rejected-rows runbook and the tests key on them. Each reason's rule, as
the SQL both engines run, is in `classification`.
"""

from __future__ import annotations

# The producer's fields the contract reads; any others on a line are ignored.
FIELDS: tuple[str, ...] = (
    "event_id",
    "order_id",
    "customer_id",
    "status",
    "amount",
    "order_placed_at",
    "event_time",
)

STATUSES: tuple[str, ...] = ("placed", "paid", "shipped", "delivered", "cancelled", "refunded")

# Statuses whose amount does not count as revenue.
NON_REVENUE_STATUSES: tuple[str, ...] = ("cancelled", "refunded")

# Checked in this order; a line is quarantined with the first reason that applies.
REJECT_REASONS: dict[str, str] = {
    "invalid_utf8": "the line is not valid UTF-8",
    "blank_line": "the line is empty or only ASCII whitespace (space, tab, form feed, CR)",
    "malformed_json": "the line is not a JSON object",
    "missing_id": "event_id, order_id or customer_id is missing, empty or not a string",
    "unknown_status": "status is not one of " + ", ".join(STATUSES),
    "invalid_amount": (
        "amount is missing, not a finite number or numeric string, has more than 2 decimals, "
        "or is 10^16 or more (it must fit decimal(18, 2))"
    ),
    "negative_amount": "amount is below zero",
    "invalid_timestamp": "order_placed_at or event_time is unparseable or has no UTC offset",
    "event_time_before_order_placed": "event_time is earlier than order_placed_at",
    "event_time_after_arrival": "event_time is more than 24 hours after the file arrived",
}

# Amounts are money in the shop currency, stored as AMOUNT_TYPE: at most AMOUNT_DECIMALS
# decimals and AMOUNT_INTEGER_DIGITS digits before the point (under 10^16).
AMOUNT_DECIMALS = 2
AMOUNT_INTEGER_DIGITS = 16
AMOUNT_TYPE = f"decimal({AMOUNT_INTEGER_DIGITS + AMOUNT_DECIMALS}, {AMOUNT_DECIMALS})"

# An amount sent as a string must be a plain decimal numeral: an optional sign, ASCII digits,
# an optional fraction; no spaces, exponents, digit separators, or point without digits on
# both sides. The engines' casts read more (" 12", "1e3", "1_000", ".5"), which would load
# amounts the producer did not write as numbers. A full match is meant (`Dialect.full_match`).
NUMERIC_STRING_PATTERN = r"[+-]?[0-9]+(\.[0-9]+)?"

# ISO-8601 date-time with a mandatory offset (Z, +HH:MM or +HHMM). DuckDB would happily read
# an offset-less value in the session time zone, which is exactly the ambiguity we refuse.
# Each part is held to its range here (years 0001-9999, hours 00-23, offsets up to 23:59,
# at most microseconds): the engines' casts read more (year 0, hour 24, offset +24:00,
# nanoseconds truncated), which would load instants no producer meant. A day past the end of
# its month is left to the cast, which refuses it.
_DATE = r"(000[1-9]|00[1-9]\d|0[1-9]\d{2}|[1-9]\d{3})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"
_HOUR_MINUTE = r"([01]\d|2[0-3]):[0-5]\d"
_SECONDS = r"[0-5]\d(\.\d{1,6})?"
_OFFSET_HOUR = r"[+-]([01]\d|2[0-3])"
_TIMESTAMP = rf"{_DATE}[T ]{_HOUR_MINUTE}(:{_SECONDS})?(Z|{_OFFSET_HOUR}:?[0-5]\d)"
TIMESTAMP_PATTERN = rf"^{_TIMESTAMP}$"

# The shape of a line as the producers write it: the contract's fields in order and no
# others, no whitespace between them, strings without escapes or control characters, the
# amount a plain non-negative numeral within the amount's limits (as a JSON number or a
# string), and the times as the contract's timestamps. Such a line is a JSON object whose
# ids, status and amount keep their rules, so only its times are left to check: loaders read
# it straight into typed columns instead of parsing it the general way (nearly every line
# has this shape). A line of any other shape is judged the general way; the outcome is the
# same. Every part is built from the rules above, so the shape cannot admit what they refuse.
_PLAIN_STRING = r'"[^"\\\x00-\x1f]+"'
_PLAIN_AMOUNT = rf"(0|[1-9]\d{{0,{AMOUNT_INTEGER_DIGITS - 1}}})(\.\d{{1,{AMOUNT_DECIMALS}}})?"
_SHAPE_OF: dict[str, str] = {
    "event_id": _PLAIN_STRING,
    "order_id": _PLAIN_STRING,
    "customer_id": _PLAIN_STRING,
    "status": '"(' + "|".join(STATUSES) + ')"',
    "amount": f'({_PLAIN_AMOUNT}|"{_PLAIN_AMOUNT}")',
    "order_placed_at": f'"{_TIMESTAMP}"',
    "event_time": f'"{_TIMESTAMP}"',
}
PRODUCER_LINE_PATTERN = r"\{" + ",".join(f'"{f}":{_SHAPE_OF[f]}' for f in FIELDS) + r"\}"

# How far in the future (relative to its arrival) an event_time may be before it is rejected.
MAX_CLOCK_SKEW_HOURS = 24

# Files under this sub-folder of the landing zone are history: events that happened before
# the platform was adopted, imported in bulk. They land without an arrival stamp
# (`event_ingested_at` null), so they count as on time, like legacy rows, and an import of
# months of files does not read as months of lateness. Their files are still in the ledger
# (`orders_landing_files`, whose `event_ingested_at` says when they were loaded).
HISTORY_FOLDER = "history"

# Landing file naming: producers write `name.jsonl.tmp` and rename to `name.jsonl` when the file
# is complete; only `*.jsonl` files are ever read.
LANDING_FILE_GLOB = "*.jsonl"
