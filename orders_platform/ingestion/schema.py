"""Warehouse tables owned by ingestion, and the in-place migration of a legacy landing table.

The landing table keeps every valid line exactly as it arrived (append-only, retries
included and flagged), so any day can be re-merged from it later. Producer columns come
first; the platform's own columns (arrival time, lineage, retry flag) follow and are
nullable, which is what lets a table created before this platform be migrated by adding
columns only, never by rewriting or dropping it.
"""

from __future__ import annotations

import duckdb

from orders_platform.ingestion.contract import AMOUNT_TYPE
from orders_platform.ingestion.dialects import DuckDB

PRODUCER_COLUMNS: dict[str, str] = {
    "event_id": "varchar",
    "order_id": "varchar",
    "customer_id": "varchar",
    "status": "varchar",
    "amount": AMOUNT_TYPE,
    "order_placed_at": "timestamp",  # UTC, naive
    "event_time": "timestamp",  # UTC, naive
}

# Added by the platform; null on legacy rows, where a null arrival time means "on time".
PLATFORM_COLUMNS: dict[str, str] = {
    "event_ingested_at": "timestamp",
    "source_file": "varchar",
    "source_line_number": "bigint",
    "load_id": "varchar",
    "is_retry": "boolean",
}

LANDING_TABLE = "orders_landing"
REJECTED_TABLE = "orders_rejected"
FILES_TABLE = "orders_landing_files"
DAYS_TABLE = "orders_landing_days"
EVENT_IDS_TABLE = "orders_landing_event_ids"

_CREATE_REJECTED = """
create table if not exists orders_rejected (
    source_file varchar not null,
    source_line_number bigint not null,
    raw_line varchar not null,
    reason varchar not null,
    reason_detail varchar not null,
    event_id varchar,
    rejected_at timestamp not null,
    load_id varchar not null
)
"""

_CREATE_FILES = """
create table if not exists orders_landing_files (
    source_file varchar primary key,
    file_bytes bigint not null,
    line_count bigint not null,
    loaded_count bigint not null,
    rejected_count bigint not null,
    retry_count bigint not null,
    event_ingested_at timestamp not null,
    load_id varchar not null
)
"""

# One row per order date that landed data has touched: its version is the load that last
# brought an event for an order dated (or re-dated away from) that day. Dagster reads these
# as the per-partition data versions of `landed_order_days`, which is what marks exactly the
# affected revenue partitions stale.
_CREATE_DAYS = """
create table if not exists orders_landing_days (
    order_date date primary key,
    version varchar not null,
    updated_at timestamp not null
)
"""

# Legacy rows get their retry flag once, at migration: the first row (in storage order) of
# each event_id is the original, every later one a retry.
_FLAG_LEGACY_RETRIES = """
update orders_landing as landing
set is_retry = ranked.position > 1
from (
    select rowid as row_id, row_number() over (partition by event_id order by rowid) as position
    from orders_landing
    where is_retry is null
) as ranked
where landing.rowid = ranked.row_id
"""


# Every event id that has landed, once, with its hash (`Dialect.id_hash`): what a load looks
# its ids up in to flag retries (`classification`), eight bytes a landed id rather than the
# whole landing table's ids. A load adds its new ids in the transaction that lands them; a
# warehouse from before this table gets it filled from `orders_landing` in one statement.
_CREATE_EVENT_IDS = """
create table orders_landing_event_ids as
select {id_hash} as id_hash, event_id
from (select distinct event_id from orders_landing where event_id is not null) as landed
"""

# DuckDB's `hash` is not promised to stay the same across versions. The table's comment
# holds the hash of a fixed text when its hashes were computed; when this DuckDB hashes the
# text differently, every stored hash is recomputed (in one statement) before any lookup.
_HASH_PROBE = "orders_platform event id"
_REHASH_EVENT_IDS = "update orders_landing_event_ids set id_hash = {id_hash}"


def _ensure_event_ids(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """Create and fill the event-id table if missing; rehash it if `hash` has changed."""
    id_hash = DuckDB().id_hash
    (probe,) = conn.execute(f"select {id_hash('?')}::varchar", [_HASH_PROBE]).fetchone()
    changes = []
    if not _existing_columns(conn, EVENT_IDS_TABLE):
        conn.execute(_CREATE_EVENT_IDS.format(id_hash=id_hash("event_id")))
        changes.append(f"created {EVENT_IDS_TABLE} from {LANDING_TABLE}")
    else:
        stored = conn.execute(
            "select comment from duckdb_tables() "
            "where schema_name = current_schema() and table_name = ?",
            [EVENT_IDS_TABLE],
        ).fetchone()
        if stored is not None and stored[0] == probe:
            return []
        conn.execute(_REHASH_EVENT_IDS.format(id_hash=id_hash("event_id")))
        changes.append(f"rehashed {EVENT_IDS_TABLE}")
    conn.execute(f"comment on table {EVENT_IDS_TABLE} is '{probe}'")
    return changes


def _existing_columns(conn: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    rows = conn.execute(
        "select column_name from information_schema.columns "
        "where table_schema = current_schema() and table_name = ? order by ordinal_position",
        [table],
    ).fetchall()
    return [name for (name,) in rows]


def _ddl(columns: dict[str, str]) -> str:
    return ",\n    ".join(f"{name} {sql_type}" for name, sql_type in columns.items())


def ensure_schema(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """Create missing tables and migrate a legacy landing table; return what was changed.

    Idempotent and non-destructive: existing rows are never rewritten except to set the retry
    flag on legacy rows that have none.
    """
    changes: list[str] = []
    existing = _existing_columns(conn, LANDING_TABLE)
    if not existing:
        conn.execute(
            f"create table {LANDING_TABLE} (\n    {_ddl(PRODUCER_COLUMNS | PLATFORM_COLUMNS)}\n)"
        )
        changes.append(f"created {LANDING_TABLE}")
    else:
        missing_producer = [c for c in PRODUCER_COLUMNS if c not in existing]
        if missing_producer:
            raise RuntimeError(
                f"{LANDING_TABLE} exists but lacks producer columns {missing_producer}; "
                "it is not an orders landing table this platform can migrate."
            )
        for column, sql_type in PLATFORM_COLUMNS.items():
            if column not in existing:
                conn.execute(f"alter table {LANDING_TABLE} add column {column} {sql_type}")
                changes.append(f"added {LANDING_TABLE}.{column}")
        if "added orders_landing.is_retry" in changes:
            conn.execute(_FLAG_LEGACY_RETRIES)
    for table, ddl in (
        (REJECTED_TABLE, _CREATE_REJECTED),
        (FILES_TABLE, _CREATE_FILES),
        (DAYS_TABLE, _CREATE_DAYS),
    ):
        if not _existing_columns(conn, table):
            conn.execute(ddl)
            changes.append(f"created {table}")
    return changes + _ensure_event_ids(conn)
