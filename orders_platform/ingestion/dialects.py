"""What DuckDB and Spark SQL spell differently in the classification, and nothing else.

The rules of the contract (`classification`) are the same predicates on both engines; what
differs is how a line is read into the columns they test: each engine's JSON parser and the
names it gives JSON types, how a matched ISO-8601 text becomes a timestamp, how a regex is
matched and how a string literal is escaped. Each difference is one method here, so the
two engines can be read side by side and a third would be one more class.

DuckDB reads each line once: `json_extract` of the list of all paths. Spark parses each
line with `try_parse_json` to a VARIANT, which keeps the JSON type of every field (a number
where a string id is required is `missing_id`, as on DuckDB). What Spark's parser and regex
engine bring, all on inputs no producer of ours writes: a line with a duplicated key is
`malformed_json` (DuckDB reads the first value), and text after a closing brace is
rejected only when the line does not end in `}`. Rules spell character classes out rather
than use `\\s`, which also matches a vertical tab in Java but not in RE2.
"""

from __future__ import annotations

from typing import Protocol

from orders_platform.ingestion.contract import FIELDS


class Dialect(Protocol):
    """SQL fragments for the classification; `field` is one of `contract.FIELDS`."""

    # How a CTE read more than once is kept from being computed once per reader.
    materialized: str

    def parsed(self, is_producer_shaped: str) -> str:
        """CTEs over `_incoming_lines`, the last named `parsed`: every staged column;
        `is_producer_shaped`, the given predicate for lines not marked at staging; and for
        the other lines `v`, the line's JSON object (null when the line is not one or was
        marked at staging). Each line is read once, the short way or the general way."""
        ...

    def shaped_text(self, field: str) -> str:
        """The field's text on a producer-shaped line (`contract.PRODUCER_LINE_PATTERN`),
        whose values are plain: no escapes, an amount as a plain number."""
        ...

    def is_string(self, field: str) -> str:
        """The field is present and a JSON string."""
        ...

    def is_number(self, field: str) -> str:
        """The field is present and a JSON number."""
        ...

    def text(self, field: str) -> str:
        """The field's value as text (meant for a field that `is_string`)."""
        ...

    def number_as_decimal(self, field: str) -> str:
        """A JSON number field as decimal(38, 10), null when it does not fit."""
        ...

    def matches(self, text: str, pattern: str) -> str:
        """`text` contains a match of the regex `pattern` (a Python string)."""
        ...

    def full_match(self, text: str, pattern: str) -> str:
        """All of `text` is a match of the regex `pattern` (a Python string)."""
        ...

    def to_timestamp(self, text: str) -> str:
        """Text that matched `contract.TIMESTAMP_PATTERN` as a UTC timestamp, null when it is
        no real instant."""
        ...

    def literal(self, value: str) -> str:
        """`value` as a SQL string literal."""
        ...

    def id_hash(self, text: str) -> str:
        """A 64-bit hash of `text`: what `event_ids` holds beside each landed event id, so
        that the retry lookup reads eight bytes per landed id, not the id."""
        ...

    def landed_before(self, event_ids: str) -> str:
        """CTEs, the last named `landed_before`: the event ids of `judged`'s valid lines that
        are in `event_ids` (the table of every event id landed, with its `id_hash`)."""
        ...


_DUCKDB_PARSED = r"""shaped as (
    select *, pre_reason is null and {is_producer_shaped} as is_producer_shaped
    from _incoming_lines
),
parsed as (
    select
        *,
        -- a producer-shaped line has no escapes: its values are the text between the quotes
        case
            when is_producer_shaped then json_extract_string(raw_line, [{paths}])
        end as t,
        case
            when not is_producer_shaped and pre_reason is null and json_valid(raw_line)
                -- a valid document is an object when it starts with a brace; only the rare
                -- line that does not (leading whitespace, an array) pays for json_type
                and (starts_with(raw_line, '{{') or json_type(raw_line) = 'OBJECT')
                -- DuckDB's reader accepts NaN/Infinity literals; strict JSON does not
                -- (only lines mentioning one pay for the costly string-stripping regex)
                and case
                    when raw_line ilike '%nan%' or raw_line ilike '%inf%'
                        then not regexp_matches(
                            regexp_replace(raw_line, '"(?:[^"\\]|\\.)*"', '', 'g'),
                            '(?i)nan|inf'
                        )
                    else true
                end
                then json_extract(raw_line, [{paths}])
        end as v
    from shaped
)"""


# Candidates by hash first (a scan of eight bytes per landed id), then the ids of just those
# rows, fetched by row id, then the exact comparison. Each step is materialized: were the
# comparison pushed into the scan, DuckDB would read every landed id to filter it.
_DUCKDB_LANDED_BEFORE = """hash_matches as materialized (
    select landed.rowid as landed_row
    from {event_ids} as landed
    where landed.id_hash in (select judged.id_hash from judged where judged.reason is null)
),
matched_ids as materialized (
    select landed.event_id
    from {event_ids} as landed
    where landed.rowid in (select hash_matches.landed_row from hash_matches)
),
landed_before as (
    select distinct matched_ids.event_id
    from matched_ids
    where matched_ids.event_id in (select judged.event_id from judged where judged.reason is null)
)"""


class DuckDB:
    """DuckDB: one `json_extract` of every path, so `v` is a list indexed like `FIELDS`."""

    materialized = "materialized "

    def parsed(self, is_producer_shaped: str) -> str:
        paths = ", ".join(f"'$.{field}'" for field in FIELDS)
        return _DUCKDB_PARSED.format(is_producer_shaped=is_producer_shaped, paths=paths)

    def shaped_text(self, field: str) -> str:
        return f"t[{FIELDS.index(field) + 1}]"

    def _value(self, field: str) -> str:
        return f"v[{FIELDS.index(field) + 1}]"

    def is_string(self, field: str) -> str:
        # an extracted JSON value is a string exactly when its text starts with a quote
        return f"starts_with({self._value(field)}::varchar, '\"')"

    def is_number(self, field: str) -> str:
        return f"json_type({self._value(field)}) in ('UBIGINT', 'BIGINT', 'HUGEINT', 'DOUBLE')"

    def text(self, field: str) -> str:
        return f"{self._value(field)} ->> '$'"

    def number_as_decimal(self, field: str) -> str:
        return f"try_cast({self._value(field)}::varchar as decimal(38, 10))"

    def matches(self, text: str, pattern: str) -> str:
        return f"regexp_matches({text}, {self.literal(pattern)})"

    def full_match(self, text: str, pattern: str) -> str:
        return f"regexp_full_match({text}, {self.literal(pattern)})"

    def to_timestamp(self, text: str) -> str:
        # the session time zone is UTC: the instant, as a naive UTC timestamp
        return f"try_cast({text} as timestamptz)::timestamp"

    def literal(self, value: str) -> str:
        return "'" + value.replace("'", "''") + "'"

    def id_hash(self, text: str) -> str:
        # `hash` may change with DuckDB's version; `schema` rehashes the table when it does
        return f"hash({text})"

    def landed_before(self, event_ids: str) -> str:
        return _DUCKDB_LANDED_BEFORE.format(event_ids=event_ids)


_SPARK_PARSED = """shaped as (
    select *, pre_reason is null and {is_producer_shaped} as is_producer_shaped
    from _incoming_lines
),
documents as (
    select
        *,
        case
            when not is_producer_shaped and pre_reason is null and raw_line rlike {closing_brace}
                then try_parse_json(raw_line)
        end as doc
    from shaped
),
objects as (
    select *, case when schema_of_variant(doc) like 'OBJECT%' then doc end as v
    from documents
),
parsed as (
    select
        *,
        {types}
    from objects
)"""

# Spark joins on the hash and the id together; it has no row ids to fetch the few by.
_SPARK_LANDED_BEFORE = """landed_before as (
    select distinct landed.event_id
    from {event_ids} as landed
    left semi join (
        select judged.id_hash, judged.event_id from judged where judged.reason is null
    ) as batch
        on landed.id_hash = batch.id_hash and landed.event_id = batch.event_id
)"""

# An offset-bearing time without seconds (allowed by the contract, and read by DuckDB) gets
# ":00" so that Spark's cast, which requires seconds, reads the same instant.
_ADD_SECONDS = r"^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2})(Z|[+-])"


class SparkSQL:
    """Spark SQL: `v` is a VARIANT; each field's JSON type is read once, as `<field>_type`."""

    # Spark SQL has no MATERIALIZED CTEs; it plans the repeated reads itself
    materialized = ""

    def parsed(self, is_producer_shaped: str) -> str:
        types = ",\n        ".join(
            f"schema_of_variant(variant_get(v, '$.{field}')) as {field}_type" for field in FIELDS
        )
        return _SPARK_PARSED.format(
            is_producer_shaped=is_producer_shaped,
            closing_brace=self.literal(r"\}\s*$"),
            types=types,
        )

    def shaped_text(self, field: str) -> str:
        # a producer-shaped line has no escapes: its values are what get_json_object returns
        return f"get_json_object(raw_line, '$.{field}')"

    def is_string(self, field: str) -> str:
        return f"{field}_type = 'STRING'"

    def is_number(self, field: str) -> str:
        return f"({field}_type in ('BIGINT', 'DOUBLE') or {field}_type like 'DECIMAL%')"

    def text(self, field: str) -> str:
        return f"variant_get(v, '$.{field}', 'string')"

    def number_as_decimal(self, field: str) -> str:
        return f"try_variant_get(v, '$.{field}', 'decimal(38, 10)')"

    def matches(self, text: str, pattern: str) -> str:
        return f"{text} rlike {self.literal(pattern)}"

    def full_match(self, text: str, pattern: str) -> str:
        # `\z`, not `$`: Java's `$` also matches before a final line terminator
        anchored = "^(?:" + pattern + r")\z"
        return f"{text} rlike {self.literal(anchored)}"

    def to_timestamp(self, text: str) -> str:
        # the session time zone is UTC (resources.spark)
        add_seconds = f"regexp_replace({text}, {self.literal(_ADD_SECONDS)}, '$1:00$2')"
        return f"try_cast({add_seconds} as timestamp)"

    def literal(self, value: str) -> str:
        # Spark unescapes backslash sequences in string literals
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"

    def id_hash(self, text: str) -> str:
        # a fixed algorithm and seed (Spark's bucketing relies on it across versions)
        return f"xxhash64({text})"

    def landed_before(self, event_ids: str) -> str:
        return _SPARK_LANDED_BEFORE.format(event_ids=event_ids)
