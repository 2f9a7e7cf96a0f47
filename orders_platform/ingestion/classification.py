"""The contract as SQL: every staged line typed, judged by each reason's rule, retries flagged.

One statement per engine, generated here from one table of rules (`reject_rules`) and the
engine's `Dialect`. The rules are short predicates on typed columns and are the same on
both engines; what differs (JSON parsing, JSON type names, timestamp parsing, regex and
string literals) is all in how a line becomes those columns, and that is in `dialects`.
This is a Python table rather than `.sql` files because templated SQL would need a
templater and one macro per difference, rendered once per dialect, only so that sqlfluff
could lint it; a table keeps each rule on one line, next to the reason it names.

The statement is one pass on DuckDB (a later issue needs >= 500 K events/s): each line is
parsed once, every field typed once, and the first broken rule, in `REJECT_REASONS` order,
names the reason. A valid line is a retry when its event id landed before, or appears on an
earlier valid line of the same batch (by file name, then line number). "Landed before" is
looked up in the table of landed event ids (`schema.EVENT_IDS_TABLE`), by a 64-bit hash of
the id first and the id itself only on a hash match (`Dialect.landed_before`), so the lookup
reads eight bytes per landed id rather than every id's text.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from orders_platform.ingestion.contract import (
    AMOUNT_TYPE,
    FIELDS,
    HISTORY_FOLDER,
    MAX_CLOCK_SKEW_HOURS,
    NUMERIC_STRING_PATTERN,
    PRODUCER_LINE_PATTERN,
    REJECT_REASONS,
    STATUSES,
    TIMESTAMP_PATTERN,
)
from orders_platform.ingestion.dialects import Dialect

# The columns of `_classified`, the table or view the engines write their rows from.
_CLASSIFIED_COLUMNS = ("source_file", "source_line_number", *FIELDS, "id_hash", "reason")


def reject_rules(sql: Dialect, ingested_at: datetime) -> dict[str, str]:
    """Each reason's rule: the predicate on a typed line that breaks it, keyed by reason in
    `REJECT_REASONS` order (the order they are checked in)."""
    statuses = ", ".join(sql.literal(status) for status in STATUSES)
    latest_event_time = ingested_at + timedelta(hours=MAX_CLOCK_SKEW_HOURS)
    return {
        # marked while staging: the engine's reader could not decode the line
        "invalid_utf8": "pre_reason = 'invalid_utf8'",
        # ASCII whitespace only, spelled out: `\s` differs between RE2 and Java (vertical tab)
        # (no JSON document is blank: only lines that did not parse pay for the regex)
        "blank_line": "not is_object and " + sql.matches("raw_line", r"^[ \t\n\f\r]*$"),
        "malformed_json": "not is_object",
        "missing_id": "event_id is null or order_id is null or customer_id is null",
        "unknown_status": f"status is null or status not in ({statuses})",
        "invalid_amount": "amount is null or amount_exact <> amount",
        "negative_amount": "amount < 0",
        "invalid_timestamp": "order_placed_at is null or event_time is null",
        "event_time_before_order_placed": "event_time < order_placed_at",
        "event_time_after_arrival": (
            f"event_time > timestamp {sql.literal(latest_event_time.isoformat(sep=' '))}"
        ),
    }


def _fields(sql: Dialect) -> list[str]:
    """Each field the rules read: a producer-shaped line's straight from its text, any other
    line's from its parsed object, null unless of its JSON type."""

    def either(shaped: str, general: str, name: str) -> str:
        return f"case when is_producer_shaped then {shaped} else {general} end as {name}"

    columns = ["is_producer_shaped or v is not null as is_object"]
    for field in ("event_id", "order_id", "customer_id"):
        general = f"case when {sql.is_string(field)} then nullif({sql.text(field)}, '') end"
        columns.append(either(sql.shaped_text(field), general, field))
    general = f"case when {sql.is_string('status')} then {sql.text('status')} end"
    columns.append(either(sql.shaped_text("status"), general, "status"))
    general = (
        f"case when {sql.is_string('amount')}"
        f" then case when {sql.full_match(sql.text('amount'), NUMERIC_STRING_PATTERN)}"
        f" then try_cast({sql.text('amount')} as decimal(38, 10)) end"
        f" when {sql.is_number('amount')} then {sql.number_as_decimal('amount')} end"
    )
    shaped = f"cast({sql.shaped_text('amount')} as decimal(38, 10))"
    columns.append(either(shaped, general, "amount_exact"))
    for field in ("order_placed_at", "event_time"):
        general = f"case when {sql.is_string(field)} then {sql.text(field)} end"
        columns.append(either(sql.shaped_text(field), general, f"{field}_text"))
    return columns


def _instants(sql: Dialect) -> list[str]:
    """The two times as instants, where their text has a UTC offset and reads as one (a
    producer-shaped line's times have the pattern's shape already)."""
    return [
        "case when is_producer_shaped"
        f" or {sql.matches(f'{field}_text', TIMESTAMP_PATTERN)}"
        f" then {sql.to_timestamp(f'{field}_text')} end as {field}_instant"
        for field in ("order_placed_at", "event_time")
    ]


# The instants a time may name (years 0001-9999 in UTC, Python's datetime range and Spark's):
# an offset can carry a time the pattern admits past either end of the years it admits.
_FIRST_INSTANT = "0001-01-01 00:00:00"
_LAST_INSTANT = "9999-12-31 23:59:59.999999"


def _timestamps(sql: Dialect) -> list[str]:
    """The two times, as naive UTC timestamps within the instants a time may name."""
    first, last = sql.literal(_FIRST_INSTANT), sql.literal(_LAST_INSTANT)
    return [
        f"case when {field}_instant between timestamp {first} and timestamp {last}"
        f" then {field}_instant end as {field}"
        for field in ("order_placed_at", "event_time")
    ]


_CLASSIFICATION = """
with {parsed},
fields as (
    select
        *,
        {fields}
    from parsed
),
read_as as (
    select
        *,
        try_cast(amount_exact as {amount_type}) as amount,
        {instants}
    from fields
),
typed as (
    select
        *,
        {timestamps}
    from read_as
),
judged as {materialized}(
    select
        source_file,
        source_line_number,
        {typed_fields},
        {id_hash} as id_hash,
        reason,
        -- only a rejected line is kept as it arrived
        case when reason is not null then raw_line end as raw_line
    from (
        select
            *,
            case
                {rules}
            end as reason
        from typed
    ) as with_reasons
),
{landed_before},
repeated_in_batch as (
    select event_id
    from judged
    where reason is null
    group by event_id
    having count(*) > 1
),
later_in_batch as (
    select source_file, source_line_number
    from (
        select
            source_file,
            source_line_number,
            row_number() over (
                partition by event_id order by source_file, source_line_number
            ) as position
        from judged
        where reason is null and event_id in (select event_id from repeated_in_batch)
    ) as ranked
    where position > 1
)
select
    {columns},
    judged.raw_line,
    judged.reason is null and (
        later_in_batch.source_line_number is not null or landed_before.event_id is not null
    ) as is_retry,
    {arrival} as event_ingested_at
from judged
left join landed_before on landed_before.event_id = judged.event_id
left join later_in_batch
    on
        later_in_batch.source_file = judged.source_file
        and later_in_batch.source_line_number = judged.source_line_number
"""

# The rejected lines of `_classified` by reason, for the load's report.
REJECTED_BY_REASON = """
select reason, count(*) from _classified where reason is not null group by reason
"""


def classification_sql(sql: Dialect, event_ids_table: str, ingested_at: datetime) -> str:
    """The query that classifies `_incoming_lines` (columns `source_file`,
    `source_line_number`, `raw_line`, `pre_reason`) into the rows of `_classified`.

    `event_ids_table` is the table of every event id landed before (`schema.EVENT_IDS_TABLE`)
    as the engine names it, `ingested_at` the load's
    arrival time (naive UTC): each row's `event_ingested_at`, except for history files
    (`contract.HISTORY_FOLDER`), whose rows land unstamped."""
    rules = reject_rules(sql, ingested_at)
    history = sql.literal(f"{HISTORY_FOLDER}/%")
    arrival = (
        f"case when judged.source_file like {history} then null"
        f" else timestamp {sql.literal(ingested_at.isoformat(sep=' '))} end"
    )
    return _CLASSIFICATION.format(
        amount_type=AMOUNT_TYPE,
        arrival=arrival,
        materialized=sql.materialized,
        parsed=sql.parsed(sql.full_match("raw_line", PRODUCER_LINE_PATTERN)),
        typed_fields=", ".join(FIELDS),
        fields=",\n        ".join(_fields(sql)),
        instants=",\n        ".join(_instants(sql)),
        timestamps=",\n        ".join(_timestamps(sql)),
        rules="\n            ".join(
            f"when {rules[reason]} then {sql.literal(reason)}" for reason in REJECT_REASONS
        ),
        id_hash=sql.id_hash("event_id"),
        landed_before=sql.landed_before(event_ids_table),
        columns=",\n    ".join(f"judged.{column}" for column in _CLASSIFIED_COLUMNS),
    )
