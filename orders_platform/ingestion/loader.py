"""Load complete landing files into the warehouse exactly once, quarantining bad lines.

DuckDB does the reading and the JSON parsing (`read_text`, `json_extract`): Python only
lists files and, for the rare file that is not valid UTF-8, splits it into lines so that
the good lines still load and the bad ones are quarantined instead of failing the file.

Every file is accounted for in `orders_landing_files` in the same transaction that inserts
its rows, so a crash leaves a file either fully loaded or not loaded at all, and a file
already listed there is never read again.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from orders_platform.ingestion.contract import (
    LANDING_FILE_GLOB,
    MAX_CLOCK_SKEW_HOURS,
    REJECT_REASONS,
    STATUSES,
    TIMESTAMP_PATTERN,
)
from orders_platform.ingestion.schema import ensure_schema

# Files are committed in batches of about this many bytes, bounding memory at any volume.
DEFAULT_BATCH_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class FileLoad:
    """What happened to one landing file."""

    source_file: str
    lines: int
    loaded: int
    rejected: int
    retries: int


@dataclass
class LoadReport:
    """The outcome of one ingestion call, for asset metadata and logs."""

    load_id: str
    ingested_at: datetime
    migrations: list[str] = field(default_factory=list)
    files: list[FileLoad] = field(default_factory=list)
    skipped_files: int = 0
    rejected_by_reason: Counter[str] = field(default_factory=Counter)
    # order dates this load brought events for (or moved orders away from)
    touched_days: list[date] = field(default_factory=list)

    @property
    def lines(self) -> int:
        return sum(f.lines for f in self.files)

    @property
    def loaded(self) -> int:
        return sum(f.loaded for f in self.files)

    @property
    def rejected(self) -> int:
        return sum(f.rejected for f in self.files)

    @property
    def retries(self) -> int:
        return sum(f.retries for f in self.files)


_CREATE_INCOMING = """
create or replace temp table _incoming_lines (
    source_file varchar, source_line_number bigint, raw_line varchar, pre_reason varchar
)
"""

_STAGE_LINES = """
insert into _incoming_lines
with files as (
    select filename, string_split(content, chr(10)) as lines
    from read_text($paths)
),
numbered as (
    select
        filename,
        generate_subscripts(lines, 1) as line_number,
        unnest(lines) as line,
        len(lines) as line_count
    from files
)
select
    $names[list_position($paths, filename)],
    line_number,
    rtrim(line, chr(13)),
    null
from numbered
-- a final newline ends the last line; it does not start an empty one
where not (line_number = line_count and line = '')
"""

_STAGE_PYTHON_LINES = """
insert into _incoming_lines
select $name, unnest(range(1, len($lines) + 1)), unnest($lines), unnest($reasons)
"""

# One pass over the staged lines: parse each object once, type every field, and name the
# first contract rule a line breaks. Retries are flagged against everything already landed
# and against earlier lines of the same batch (file name, then line number).
_CLASSIFY = """
create or replace temp table _classified as
with parsed as (
    select
        *,
        case
            when pre_reason is null and json_valid(raw_line) and json_type(raw_line) = 'OBJECT'
                -- DuckDB's reader accepts NaN/Infinity literals; strict JSON does not
                -- (the string-stripping regex is costly: only lines mentioning one pay for it)
                and case
                    when regexp_matches(raw_line, '(?i)nan|inf')
                        then not regexp_matches(
                            regexp_replace(raw_line, '"(?:[^"\\\\]|\\\\.)*"', '', 'g'),
                            '(?i)nan|inf'
                        )
                    else true
                end
                then json_extract(
                    raw_line,
                    ['$.event_id', '$.order_id', '$.customer_id', '$.status', '$.amount',
                     '$.order_placed_at', '$.event_time']
                )
        end as v
    from _incoming_lines
),
fields as (
    select
        *,
        case when json_type(v[1]) = 'VARCHAR' then nullif(v[1] ->> '$', '') end as event_id,
        case when json_type(v[2]) = 'VARCHAR' then nullif(v[2] ->> '$', '') end as order_id,
        case when json_type(v[3]) = 'VARCHAR' then nullif(v[3] ->> '$', '') end as customer_id,
        case when json_type(v[4]) = 'VARCHAR' then v[4] ->> '$' end as status,
        case
            when json_type(v[5]) = 'VARCHAR' then try_cast(trim(v[5] ->> '$') as decimal(38, 10))
            when json_type(v[5]) in ('UBIGINT', 'BIGINT', 'HUGEINT', 'DOUBLE')
                then try_cast(v[5]::varchar as decimal(38, 10))
        end as amount_exact,
        case when json_type(v[6]) = 'VARCHAR' then v[6] ->> '$' end as order_placed_at_text,
        case when json_type(v[7]) = 'VARCHAR' then v[7] ->> '$' end as event_time_text
    from parsed
),
typed as (
    select
        *,
        try_cast(amount_exact as decimal(18, 2)) as amount,
        case when regexp_matches(order_placed_at_text, $timestamp_pattern)
            then try_cast(order_placed_at_text as timestamptz)::timestamp end as order_placed_at,
        case when regexp_matches(event_time_text, $timestamp_pattern)
            then try_cast(event_time_text as timestamptz)::timestamp end as event_time
    from fields
),
judged as (
    select
        *,
        case
            when pre_reason is not null then pre_reason
            when regexp_matches(raw_line, '^\\s*$') then 'blank_line'
            when v is null then 'malformed_json'
            when event_id is null or order_id is null or customer_id is null then 'missing_id'
            when status is null or not list_contains($statuses, status) then 'unknown_status'
            when amount is null or amount_exact <> amount then 'invalid_amount'
            when amount < 0 then 'negative_amount'
            when order_placed_at is null or event_time is null then 'invalid_timestamp'
            when event_time < order_placed_at then 'event_time_before_order_placed'
            when event_time > $ingested_at + to_hours($max_skew_hours)
                then 'event_time_after_arrival'
        end as reason
    from typed
)
select
    judged.* exclude (v, amount_exact, order_placed_at_text, event_time_text),
    reason is null and (
        row_number() over (
            partition by reason is null, event_id order by source_file, source_line_number
        ) > 1
        or event_id in (
            select landed.event_id from orders_landing as landed
            where landed.event_id in (select event_id from judged where reason is null)
        )
    ) as is_retry
from judged
"""

_INSERT_LANDED = """
insert into orders_landing (
    event_id, order_id, customer_id, status, amount, order_placed_at, event_time,
    event_ingested_at, source_file, source_line_number, load_id, is_retry
)
select
    event_id, order_id, customer_id, status, amount, order_placed_at, event_time,
    $ingested_at, source_file, source_line_number, $load_id, is_retry
from _classified
where reason is null
order by source_file, source_line_number
"""

_INSERT_REJECTED = """
insert into orders_rejected (
    source_file, source_line_number, raw_line, reason, reason_detail, event_id, rejected_at,
    load_id
)
select
    source_file,
    source_line_number,
    raw_line,
    reason,
    $reason_details[list_position($reason_codes, reason)],
    event_id,
    $ingested_at,
    $load_id
from _classified
where reason is not null
order by source_file, source_line_number
"""

_INSERT_FILES = """
insert into orders_landing_files
select
    incoming.source_file,
    incoming.file_bytes,
    count(c.source_line_number),
    count(c.source_line_number) filter (where c.reason is null),
    count(c.source_line_number) filter (where c.reason is not null),
    count(c.source_line_number) filter (where c.is_retry),
    $ingested_at,
    $load_id
from (select unnest($names) as source_file, unnest($sizes) as file_bytes) as incoming
left join _classified as c on c.source_file = incoming.source_file
group by all
returning source_file, line_count, loaded_count, rejected_count, retry_count
"""


# The days a batch touches: where its new snapshots are dated, and where those orders are
# dated now in fct_orders (a late snapshot that re-dates an order changes both days).
_TOUCHED_DAYS_FROM_LANDING = """
select distinct cast(order_placed_at as date) as order_date
from _classified
where reason is null and not is_retry
"""

_TOUCHED_DAYS_FROM_FCT = """
union
select distinct order_date from fct_orders
where order_id in (select order_id from _classified where reason is null and not is_retry)
"""

_MARK_DAYS = """
insert or replace into orders_landing_days
select order_date, $version, $ingested_at from ({touched}) as touched
returning order_date
"""


def pending_files(landing_dir: Path) -> list[Path]:
    """Complete landing files (`*.jsonl`, never `*.tmp`), in name order."""
    if not landing_dir.is_dir():
        return []
    return sorted(p for p in landing_dir.rglob(LANDING_FILE_GLOB) if p.is_file())


def _batches(files: list[Path], batch_bytes: int) -> list[list[Path]]:
    batches: list[list[Path]] = []
    current: list[Path] = []
    size = 0
    for path in files:
        file_size = path.stat().st_size
        if current and size + file_size > batch_bytes:
            batches.append(current)
            current, size = [], 0
        current.append(path)
        size += file_size
    if current:
        batches.append(current)
    return batches


def split_undecodable(path: Path) -> tuple[list[str], list[str | None]]:
    """Split a file that is not valid UTF-8 into lines, marking the lines that are not."""
    chunks = path.read_bytes().split(b"\n")
    if chunks and chunks[-1] == b"":
        chunks.pop()
    lines: list[str] = []
    reasons: list[str | None] = []
    for chunk in chunks:
        chunk = chunk.removesuffix(b"\r")
        try:
            lines.append(chunk.decode("utf-8"))
            reasons.append(None)
        except UnicodeDecodeError:
            lines.append(chunk.decode("utf-8", errors="backslashreplace"))
            reasons.append("invalid_utf8")
    return lines, reasons


def _stage(conn: duckdb.DuckDBPyConnection, batch: list[Path], names: list[str]) -> None:
    """Put every line of `batch` in `_incoming_lines`, falling back per file on bad UTF-8."""
    conn.execute(_CREATE_INCOMING)
    try:
        conn.execute(_STAGE_LINES, {"paths": [str(p) for p in batch], "names": names})
        return
    except duckdb.InvalidInputException:
        conn.execute(_CREATE_INCOMING)
    for path, name in zip(batch, names, strict=True):
        try:
            conn.execute(_STAGE_LINES, {"paths": [str(path)], "names": [name]})
        except duckdb.InvalidInputException:
            lines, reasons = split_undecodable(path)
            if lines:
                conn.execute(
                    _STAGE_PYTHON_LINES, {"name": name, "lines": lines, "reasons": reasons}
                )


def _load_batch(
    conn: duckdb.DuckDBPyConnection,
    batch: list[Path],
    names: list[str],
    ingested_at: datetime,
    load_id: str,
    touched_days: set[date],
) -> list[FileLoad]:
    """Stage, classify and commit one batch of files atomically."""
    _stage(conn, batch, names)
    has_fct = conn.execute(
        "select count(*) from information_schema.tables where table_name = 'fct_orders'"
    ).fetchone()[0]
    touched_sql = _TOUCHED_DAYS_FROM_LANDING + (_TOUCHED_DAYS_FROM_FCT if has_fct else "")
    conn.execute(
        _CLASSIFY,
        {
            "timestamp_pattern": TIMESTAMP_PATTERN,
            "statuses": list(STATUSES),
            "ingested_at": ingested_at,
            "max_skew_hours": MAX_CLOCK_SKEW_HOURS,
        },
    )
    conn.execute("begin transaction")
    try:
        conn.execute(_INSERT_LANDED, {"ingested_at": ingested_at, "load_id": load_id})
        conn.execute(
            _INSERT_REJECTED,
            {
                "ingested_at": ingested_at,
                "load_id": load_id,
                "reason_codes": list(REJECT_REASONS),
                "reason_details": list(REJECT_REASONS.values()),
            },
        )
        touched = conn.execute(
            _MARK_DAYS.format(touched=touched_sql),
            {"version": load_id, "ingested_at": ingested_at},
        ).fetchall()
        rows = conn.execute(
            _INSERT_FILES,
            {
                "names": names,
                "sizes": [p.stat().st_size for p in batch],
                "ingested_at": ingested_at,
                "load_id": load_id,
            },
        ).fetchall()
        conn.execute("commit")
        touched_days.update(day for (day,) in touched)
    except Exception:
        conn.execute("rollback")
        raise
    finally:
        conn.execute("drop table if exists _classified")
        conn.execute("drop table if exists _incoming_lines")
    return [FileLoad(*row) for row in sorted(rows)]


def _rejected_by_reason(conn: duckdb.DuckDBPyConnection, load_id: str) -> Counter[str]:
    rows = conn.execute(
        "select reason, count(*) from orders_rejected where load_id = ? group by reason",
        [load_id],
    ).fetchall()
    return Counter(dict(rows))


def load_new_files(
    conn: duckdb.DuckDBPyConnection,
    landing_dir: Path,
    *,
    ingested_at: datetime | None = None,
    load_id: str | None = None,
    batch_bytes: int = DEFAULT_BATCH_BYTES,
) -> LoadReport:
    """Load every landing file not loaded before, stamping `event_ingested_at`.

    `ingested_at` defaults to now (UTC); tests pass an explicit arrival time. `load_id` ties
    the rows to the run that loaded them (the Dagster run id when called from the asset).
    """
    arrived = (ingested_at or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    report = LoadReport(load_id=load_id or uuid.uuid4().hex, ingested_at=arrived)
    report.migrations = ensure_schema(conn)
    loaded_before = {
        name for (name,) in conn.execute("select source_file from orders_landing_files").fetchall()
    }
    new_files = []
    for path in pending_files(landing_dir):
        if path.relative_to(landing_dir).as_posix() in loaded_before:
            report.skipped_files += 1
        else:
            new_files.append(path)
    touched_days: set[date] = set()
    for batch in _batches(new_files, batch_bytes):
        names = [p.relative_to(landing_dir).as_posix() for p in batch]
        report.files.extend(_load_batch(conn, batch, names, arrived, report.load_id, touched_days))
    report.touched_days = sorted(touched_days)
    report.rejected_by_reason = _rejected_by_reason(conn, report.load_id)
    return report
