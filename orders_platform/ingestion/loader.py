"""Load complete landing files into the DuckDB warehouse exactly once, quarantining bad lines.

DuckDB does the reading and the JSON parsing (`read_text`, `json_extract`): Python only
lists files and, for the rare file that is not valid UTF-8, splits it into lines so that
the good lines still load and the bad ones are quarantined instead of failing the file.
The steps of a load are `load_steps`'; this module is DuckDB's half of them.

Every file is accounted for in `orders_landing_files` in the same transaction that inserts
its rows, so a crash leaves a file either fully loaded or not loaded at all, and a file
already listed there is never read again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

import duckdb

from orders_platform.ingestion.classification import REJECTED_BY_REASON, classification_sql
from orders_platform.ingestion.contract import REJECT_REASONS
from orders_platform.ingestion.dialects import DuckDB
from orders_platform.ingestion.load_steps import (
    Batch,
    FileLoad,
    LoadReport,
    load_landing_files,
    split_undecodable,
    touched_days_sql,
)
from orders_platform.ingestion.schema import EVENT_IDS_TABLE, ensure_schema

# Files are committed in batches of about this many bytes, bounding memory at any volume.
DEFAULT_BATCH_BYTES = 256 * 1024 * 1024

_DIALECT = DuckDB()

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
),
names as (
    select
        unnest($paths) as filename,
        unnest($names) as source_file
)
select
    names.source_file,
    numbered.line_number,
    -- rtrim scans every line; only a line that ends in a CR needs it
    case
        when suffix(numbered.line, chr(13)) then rtrim(numbered.line, chr(13))
        else numbered.line
    end,
    null
from numbered
inner join names on numbered.filename = names.filename
-- a final newline ends the last line; it does not start an empty one
where not (numbered.line_number = numbered.line_count and numbered.line = '')
"""

_STAGE_PYTHON_LINES = """
insert into _incoming_lines
select $name, unnest(range(1, len($lines) + 1)), unnest($lines), unnest($reasons)
"""

_CREATE_CLASSIFIED = """
create or replace temp table _classified as {classification}
"""

_INSERT_LANDED = """
insert into orders_landing (
    event_id, order_id, customer_id, status, amount, order_placed_at, event_time,
    event_ingested_at, source_file, source_line_number, load_id, is_retry
)
select
    event_id, order_id, customer_id, status, amount, order_placed_at, event_time,
    event_ingested_at, source_file, source_line_number, $load_id, is_retry
from _classified
where reason is null
order by source_file, source_line_number
"""

# The batch's new event ids: each valid line that is not a retry brings one never seen before.
_INSERT_EVENT_IDS = """
insert into orders_landing_event_ids
select id_hash, event_id from _classified where reason is null and not is_retry
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

# A new version for every order date the batch touched (`load_steps.touched_days_sql`).
_MARK_DAYS = """
insert or replace into orders_landing_days
select order_date, $version, $ingested_at from ({touched}) as touched
returning order_date
"""


class _DuckDBEngine:
    """DuckDB's half of a load (`load_steps.LoadEngine`): one transaction per batch."""

    def __init__(self, conn: duckdb.DuckDBPyConnection) -> None:
        self.conn = conn

    def prepare(self) -> tuple[list[str], set[str]]:
        migrations = ensure_schema(self.conn)
        ledger = self.conn.execute("select source_file from orders_landing_files").fetchall()
        return migrations, {name for (name,) in ledger}

    def stage(self, batch: Batch) -> None:
        """Put every line of `batch` in `_incoming_lines`, falling back per file on bad UTF-8."""
        self.conn.execute(_CREATE_INCOMING)
        paths = [str(p) for p in batch.paths]
        try:
            self.conn.execute(_STAGE_LINES, {"paths": paths, "names": batch.names})
            return
        except duckdb.InvalidInputException:
            self.conn.execute(_CREATE_INCOMING)
        for path, name in zip(batch.paths, batch.names, strict=True):
            try:
                self.conn.execute(_STAGE_LINES, {"paths": [str(path)], "names": [name]})
            except duckdb.InvalidInputException:
                lines, reasons = split_undecodable(path)
                if lines:
                    self.conn.execute(
                        _STAGE_PYTHON_LINES, {"name": name, "lines": lines, "reasons": reasons}
                    )

    def classify(self, ingested_at: datetime) -> Counter[str]:
        classification = classification_sql(_DIALECT, EVENT_IDS_TABLE, ingested_at)
        self.conn.execute(_CREATE_CLASSIFIED.format(classification=classification))
        return Counter(dict(self.conn.execute(REJECTED_BY_REASON).fetchall()))

    @contextmanager
    def writing(self) -> Iterator[None]:
        """A batch's rows and its ledger rows in one transaction."""
        self.conn.execute("begin transaction")
        try:
            yield
            self.conn.execute("commit")
        except Exception:
            self.conn.execute("rollback")
            raise
        finally:
            self.conn.execute("drop table if exists _classified")
            self.conn.execute("drop table if exists _incoming_lines")

    def insert_loaded(self, load_id: str) -> None:
        self.conn.execute(_INSERT_LANDED, {"load_id": load_id})
        self.conn.execute(_INSERT_EVENT_IDS)

    def insert_rejected(self, ingested_at: datetime, load_id: str) -> None:
        self.conn.execute(
            _INSERT_REJECTED,
            {
                "ingested_at": ingested_at,
                "load_id": load_id,
                "reason_codes": list(REJECT_REASONS),
                "reason_details": list(REJECT_REASONS.values()),
            },
        )

    def mark_days(self, ingested_at: datetime, load_id: str) -> set[date]:
        has_fct = self.conn.execute(
            "select count(*) from information_schema.tables where table_name = 'fct_orders'"
        ).fetchone()[0]
        touched = self.conn.execute(
            _MARK_DAYS.format(touched=touched_days_sql("fct_orders" if has_fct else None)),
            {"version": load_id, "ingested_at": ingested_at},
        ).fetchall()
        return {day for (day,) in touched}

    def insert_files(self, batch: Batch, ingested_at: datetime, load_id: str) -> list[FileLoad]:
        rows = self.conn.execute(
            _INSERT_FILES,
            {
                "names": batch.names,
                "sizes": batch.sizes,
                "ingested_at": ingested_at,
                "load_id": load_id,
            },
        ).fetchall()
        return [FileLoad(*row) for row in rows]


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
    return load_landing_files(
        _DuckDBEngine(conn),
        landing_dir,
        ingested_at=ingested_at,
        load_id=load_id,
        batch_bytes=batch_bytes,
    )
