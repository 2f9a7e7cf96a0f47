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
        "amount is missing, not a finite number, has more than 2 decimals, "
        "or is 10^16 or more (it must fit decimal(18, 2))"
    ),
    "negative_amount": "amount is below zero",
    "invalid_timestamp": "order_placed_at or event_time is unparseable or has no UTC offset",
    "event_time_before_order_placed": "event_time is earlier than order_placed_at",
    "event_time_after_arrival": "event_time is more than 24 hours after the file arrived",
}

# ISO-8601 date-time with a mandatory offset (Z, +HH:MM or +HHMM). DuckDB would happily read
# an offset-less value in the session time zone, which is exactly the ambiguity we refuse.
TIMESTAMP_PATTERN = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$"

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
