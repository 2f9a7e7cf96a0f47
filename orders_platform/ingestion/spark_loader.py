"""Load complete landing files into the Spark tables: the DuckDB loader's contract, on Spark.

Same rules, same results (the DuckDB loader is the test oracle): one row per line with its
file and line number, `event_ingested_at` stamped with the load's arrival time, the first
broken rule of `contract.REJECT_REASONS` as the quarantine reason, retries flagged against
everything landed before and earlier lines of the same load, each file accounted for once in
`orders_landing_files` with lines = loaded + rejected, and a new version for every order
date the load touches in `orders_landing_days`.

Spark reads the files (`binaryFile`, so a line keeps its number and exact text) and parses
each line with its own JSON parser (`try_parse_json` to a VARIANT, which keeps the JSON
type of every field: a number where a string id is required is `missing_id`, as on DuckDB).
A file that is not valid UTF-8, the rare case, is split in Python exactly as the DuckDB
loader does it (`split_undecodable`), so its good lines still load.

Differences Spark's parser brings, both on inputs no producer of ours writes: a line with
a duplicated key is `malformed_json` on Spark (DuckDB reads the first value), and text after
a closing brace is rejected only when the line does not end in `}`.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from orders_platform.ingestion.contract import (
    MAX_CLOCK_SKEW_HOURS,
    REJECT_REASONS,
    STATUSES,
    TIMESTAMP_PATTERN,
)
from orders_platform.ingestion.loader import FileLoad, LoadReport, pending_files, split_undecodable
from orders_platform.ingestion.schema import DAYS_TABLE, FILES_TABLE, LANDING_TABLE, REJECTED_TABLE
from orders_platform.ingestion.spark_schema import (
    SPARK_TABLES,
    checked_load_id,
    drop_unfinished_loads,
    ensure_spark_schema,
    qualified,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

# An offset-bearing time without seconds (allowed by the contract, and read by DuckDB) gets
# ":00" so that Spark's cast, which requires seconds, reads the same instant.
_ADD_SECONDS = r"^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2})(Z|[+-])"

# One pass over the staged lines, as loader._CLASSIFY on DuckDB.
_CLASSIFY = """
with parsed as (
    select
        *,
        case
            when pre_reason is null and raw_line rlike '\\\\}\\\\s*$'
                then try_parse_json(raw_line)
        end as doc
    from _incoming_lines
),
objects as (
    select *, case when schema_of_variant(doc) like 'OBJECT%' then doc end as v
    from parsed
),
kinds as (
    select
        *,
        schema_of_variant(variant_get(v, '$.event_id')) as event_id_type,
        schema_of_variant(variant_get(v, '$.order_id')) as order_id_type,
        schema_of_variant(variant_get(v, '$.customer_id')) as customer_id_type,
        schema_of_variant(variant_get(v, '$.status')) as status_type,
        schema_of_variant(variant_get(v, '$.amount')) as amount_type,
        schema_of_variant(variant_get(v, '$.order_placed_at')) as order_placed_at_type,
        schema_of_variant(variant_get(v, '$.event_time')) as event_time_type
    from objects
),
fields as (
    select
        *,
        case when event_id_type = 'STRING'
            then nullif(variant_get(v, '$.event_id', 'string'), '') end as event_id,
        case when order_id_type = 'STRING'
            then nullif(variant_get(v, '$.order_id', 'string'), '') end as order_id,
        case when customer_id_type = 'STRING'
            then nullif(variant_get(v, '$.customer_id', 'string'), '') end as customer_id,
        case when status_type = 'STRING' then variant_get(v, '$.status', 'string') end as status,
        case
            when amount_type = 'STRING'
                then try_cast(trim(variant_get(v, '$.amount', 'string')) as decimal(38, 10))
            when amount_type in ('BIGINT', 'DOUBLE') or amount_type like 'DECIMAL%'
                then try_variant_get(v, '$.amount', 'decimal(38, 10)')
        end as amount_exact,
        case when order_placed_at_type = 'STRING'
            then variant_get(v, '$.order_placed_at', 'string') end as order_placed_at_text,
        case when event_time_type = 'STRING'
            then variant_get(v, '$.event_time', 'string') end as event_time_text
    from kinds
),
typed as (
    select
        *,
        try_cast(amount_exact as decimal(18, 2)) as amount,
        case when order_placed_at_text rlike :timestamp_pattern
            then try_cast(regexp_replace(order_placed_at_text, :add_seconds, '$1:00$2')
                as timestamp) end as order_placed_at,
        case when event_time_text rlike :timestamp_pattern
            then try_cast(regexp_replace(event_time_text, :add_seconds, '$1:00$2')
                as timestamp) end as event_time
    from fields
),
judged as (
    select
        *,
        case
            when pre_reason is not null then pre_reason
            when raw_line rlike '^\\\\s*$' then 'blank_line'
            when v is null then 'malformed_json'
            when event_id is null or order_id is null or customer_id is null then 'missing_id'
            when status is null or not array_contains(split(:statuses, ','), status)
                then 'unknown_status'
            when amount is null or amount_exact <> amount then 'invalid_amount'
            when amount < 0 then 'negative_amount'
            when order_placed_at is null or event_time is null then 'invalid_timestamp'
            when event_time < order_placed_at then 'event_time_before_order_placed'
            when event_time > timestampadd(
                hour, :max_skew_hours, cast(:ingested_at as timestamp)
            ) then 'event_time_after_arrival'
        end as reason
    from typed
),
landed_before as (
    select distinct landed.event_id
    from {landing} as landed
    left semi join judged on judged.event_id = landed.event_id and judged.reason is null
)
select
    judged.source_file,
    judged.source_line_number,
    judged.raw_line,
    judged.event_id,
    judged.order_id,
    judged.customer_id,
    judged.status,
    judged.amount,
    judged.order_placed_at,
    judged.event_time,
    judged.reason,
    judged.reason is null and (
        row_number() over (
            partition by judged.reason is null, judged.event_id
            order by judged.source_file, judged.source_line_number
        ) > 1
        or landed_before.event_id is not null
    ) as is_retry
from judged
left join landed_before on landed_before.event_id = judged.event_id
"""

_INSERT_LANDED = """
insert into {landing}
select
    event_id, order_id, customer_id, status, amount, order_placed_at, event_time,
    cast(:ingested_at as timestamp), source_file, source_line_number, is_retry, :load_id
from _classified
where reason is null
"""

_INSERT_REJECTED = """
insert into {rejected}
select
    c.source_file,
    c.source_line_number,
    c.raw_line,
    c.reason,
    details.reason_detail,
    c.event_id,
    cast(:ingested_at as timestamp),
    :load_id
from _classified as c
join _reason_details as details on details.reason = c.reason
"""

# The days a load touches: where its new snapshots are dated, and where those orders are
# dated now in fct_orders (a late snapshot that re-dates an order changes both days).
_TOUCHED_DAYS = """
select distinct cast(order_placed_at as date) as order_date
from _classified
where reason is null and not is_retry
"""

_TOUCHED_DAYS_FROM_FCT = """
union
select distinct order_date from {fct_orders}
where order_id in (select order_id from _classified where reason is null and not is_retry)
"""

_MARK_DAYS = """
insert overwrite table {days}
select :version, cast(:ingested_at as timestamp), order_date
from ({touched}) as touched
"""

_FILE_COUNTS = """
select
    incoming.source_file,
    incoming.file_bytes,
    count(c.source_line_number) as line_count,
    count_if(c.source_line_number is not null and c.reason is null) as loaded_count,
    count_if(c.reason is not null) as rejected_count,
    count_if(c.is_retry) as retry_count,
    cast(:ingested_at as timestamp) as event_ingested_at,
    :load_id as load_id
from _incoming_files as incoming
left join _classified as c on c.source_file = incoming.source_file
group by incoming.source_file, incoming.file_bytes
"""


def _stage(spark: SparkSession, batch: list[Path], names: list[str]) -> DataFrame:
    """Every line of `batch` with its file name and number; bad UTF-8 is split in Python."""
    from pyspark.sql import functions as F

    parts: list[DataFrame] = []
    for path, name in zip(batch, names, strict=True):
        text = (
            spark.read.format("binaryFile")
            .load(str(path))
            .select(F.col("content").cast("string").alias("text"))
        )
        valid = text.select(F.expr("is_valid_utf8(text)")).first()
        if valid is None or valid[0]:
            pieces = F.split("text", "\n", -1)
            lines = text.select(
                F.posexplode(pieces).alias("pos", "line"), F.size(pieces).alias("n")
            )
            parts.append(
                # a final newline ends the last line; it does not start an empty one
                lines.where(~((F.col("line") == "") & (F.col("pos") == F.col("n") - 1))).select(
                    F.lit(name).alias("source_file"),
                    (F.col("pos") + 1).cast("bigint").alias("source_line_number"),
                    F.regexp_replace("line", "\r+$", "").alias("raw_line"),
                    F.lit(None).cast("string").alias("pre_reason"),
                )
            )
            continue
        lines, reasons = split_undecodable(path)
        numbered = enumerate(zip(lines, reasons, strict=True), start=1)
        parts.append(
            spark.createDataFrame(
                [(name, number, line, reason) for number, (line, reason) in numbered],
                "source_file string, source_line_number bigint, raw_line string, pre_reason string",
            )
        )
    staged = parts[0]
    for part in parts[1:]:
        staged = staged.unionByName(part)
    return staged


def _load(
    spark: SparkSession,
    batch: list[Path],
    names: list[str],
    ingested_at: datetime,
    load_id: str,
) -> tuple[list[FileLoad], set[date], Counter[str]]:
    """Stage, classify and write one load; the ledger rows are written last.

    Returns the file reports, the touched days and the rejected lines by reason."""
    stamp = ingested_at.isoformat(sep=" ")
    _stage(spark, batch, names).createOrReplaceTempView("_incoming_lines")
    spark.createDataFrame(
        [(name, p.stat().st_size) for name, p in zip(names, batch, strict=True)],
        "source_file string, file_bytes bigint",
    ).createOrReplaceTempView("_incoming_files")
    spark.createDataFrame(
        list(REJECT_REASONS.items()), "reason string, reason_detail string"
    ).createOrReplaceTempView("_reason_details")
    # Checkpointed before anything is written: the retry flags must be judged against the
    # landing table as it was, never recomputed against rows this load has since appended.
    spark.sql(
        _CLASSIFY.replace("{landing}", qualified(LANDING_TABLE)),
        args={
            "timestamp_pattern": TIMESTAMP_PATTERN,
            "add_seconds": _ADD_SECONDS,
            "statuses": ",".join(STATUSES),
            "ingested_at": stamp,
            "max_skew_hours": MAX_CLOCK_SKEW_HOURS,
        },
    ).localCheckpoint().createOrReplaceTempView("_classified")
    stamped = {"ingested_at": stamp, "load_id": load_id}
    spark.sql(_INSERT_LANDED.format(landing=qualified(LANDING_TABLE)), args=stamped)
    spark.sql(_INSERT_REJECTED.format(rejected=qualified(REJECTED_TABLE)), args=stamped)
    fct_orders = qualified("fct_orders")
    touched_sql = _TOUCHED_DAYS + (
        _TOUCHED_DAYS_FROM_FCT.format(fct_orders=fct_orders)
        if spark.catalog.tableExists(fct_orders)
        else ""
    )
    touched = spark.sql(touched_sql).localCheckpoint()
    touched.createOrReplaceTempView("_touched_days")
    spark.sql(
        _MARK_DAYS.format(days=qualified(DAYS_TABLE), touched="select * from _touched_days"),
        args={"version": load_id, "ingested_at": stamp},
    )
    counts = spark.sql(_FILE_COUNTS, args=stamped).localCheckpoint()
    counts.write.insertInto(qualified(FILES_TABLE))
    files = [
        FileLoad(r.source_file, r.line_count, r.loaded_count, r.rejected_count, r.retry_count)
        for r in counts.collect()
    ]
    rejected_by_reason = Counter(
        {
            row.reason: row["count"]
            for row in spark.table("_classified")
            .where("reason is not null")
            .groupBy("reason")
            .count()
            .collect()
        }
    )
    touched_days = {row.order_date for row in touched.collect()}
    return sorted(files, key=lambda f: f.source_file), touched_days, rejected_by_reason


def load_new_files_spark(
    spark: SparkSession,
    landing_dir: Path,
    *,
    ingested_at: datetime | None = None,
    load_id: str | None = None,
) -> LoadReport:
    """Load every landing file not loaded before into the Spark tables (see module doc).

    The signature and the report are those of `loader.load_new_files`, with a Spark session
    in place of the DuckDB connection.
    """
    arrived = (ingested_at or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    report = LoadReport(load_id=checked_load_id(load_id or uuid.uuid4().hex), ingested_at=arrived)
    report.migrations = ensure_spark_schema(spark)
    ledger = spark.table(qualified(FILES_TABLE)).select("source_file", "load_id").collect()
    loaded_before = {row.source_file for row in ledger}
    unfinished = drop_unfinished_loads(spark, {row.load_id for row in ledger})
    report.migrations += [f"dropped unfinished load {load}" for load in unfinished]
    new_files = []
    for path in pending_files(landing_dir):
        if path.relative_to(landing_dir).as_posix() in loaded_before:
            report.skipped_files += 1
        else:
            new_files.append(path)
    if not new_files:
        return report
    names = [p.relative_to(landing_dir).as_posix() for p in new_files]
    report.files, touched, report.rejected_by_reason = _load(
        spark, new_files, names, arrived, report.load_id
    )
    report.touched_days = sorted(touched)
    return report


__all__ = ["SPARK_TABLES", "load_new_files_spark"]
