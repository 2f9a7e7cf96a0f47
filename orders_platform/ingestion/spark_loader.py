"""Load complete landing files into the Spark tables: the DuckDB loader's contract, on Spark.

Same steps (`load_steps`), same rules (`classification`, spelled by `dialects.SparkSQL`),
same results (the DuckDB loader is the test oracle): one row per line with its file and line
number, `event_ingested_at` stamped with the load's arrival time, the first broken rule of
`contract.REJECT_REASONS` as the quarantine reason, retries flagged against everything
landed before and earlier lines of the same load, each file accounted for once in
`orders_landing_files` with lines = loaded + rejected, and a new version for every order
date the load touches in `orders_landing_days`.

Spark reads the files (`binaryFile`, so a line keeps its number and exact text). A file that
is not valid UTF-8, the rare case, is split in Python exactly as the DuckDB loader does it
(`split_undecodable`), so its good lines still load.

Spark's tables have no transactions (`spark_schema`): a load is one batch, whatever its size,
and writes its ledger rows last, so that a load that died before them is dropped and redone
by the next one.
"""

from __future__ import annotations

from collections import Counter
from contextlib import AbstractContextManager, nullcontext
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from orders_platform.ingestion.classification import REJECTED_BY_REASON, classification_sql
from orders_platform.ingestion.contract import REJECT_REASONS
from orders_platform.ingestion.dialects import SparkSQL
from orders_platform.ingestion.load_steps import (
    Batch,
    FileLoad,
    LoadReport,
    load_landing_files,
    split_undecodable,
    touched_days_sql,
)
from orders_platform.ingestion.schema import (
    DAYS_TABLE,
    EVENT_IDS_TABLE,
    FILES_TABLE,
    LANDING_TABLE,
    REJECTED_TABLE,
)
from orders_platform.ingestion.spark_schema import (
    checked_load_id,
    drop_unfinished_loads,
    ensure_spark_schema,
    qualified,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

_DIALECT = SparkSQL()

_INSERT_LANDED = """
insert into {landing}
select
    event_id, order_id, customer_id, status, amount, order_placed_at, event_time,
    event_ingested_at, source_file, source_line_number, is_retry, :load_id
from _classified
where reason is null
"""

# The load's new event ids: each valid line that is not a retry brings one never seen before.
_INSERT_EVENT_IDS = """
insert into {event_ids}
select id_hash, event_id, :load_id from _classified where reason is null and not is_retry
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

# A new version for every order date in `_touched_days`, replacing those days' partitions.
_MARK_DAYS = """
insert overwrite table {days}
select :version, cast(:ingested_at as timestamp), order_date
from _touched_days
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


def _staged_lines(spark: SparkSession, batch: Batch) -> DataFrame:
    """Every line of `batch` with its file name and number; bad UTF-8 is split in Python."""
    from pyspark.sql import functions as F

    parts: list[DataFrame] = []
    for path, name in zip(batch.paths, batch.names, strict=True):
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


class _SparkEngine:
    """Spark's half of a load (`load_steps.LoadEngine`): no transaction, ledger rows last."""

    def __init__(self, spark: SparkSession) -> None:
        self.spark = spark

    def prepare(self) -> tuple[list[str], set[str]]:
        """The tables, and the partitions of unfinished loads dropped (before anything is
        read from them)."""
        migrations = ensure_spark_schema(self.spark)
        ledger = self.spark.table(qualified(FILES_TABLE)).select("source_file", "load_id").collect()
        unfinished = drop_unfinished_loads(self.spark, {row.load_id for row in ledger})
        migrations += [f"dropped unfinished load {load}" for load in unfinished]
        return migrations, {row.source_file for row in ledger}

    def stage(self, batch: Batch) -> None:
        _staged_lines(self.spark, batch).createOrReplaceTempView("_incoming_lines")
        self.spark.createDataFrame(
            list(zip(batch.names, batch.sizes, strict=True)),
            "source_file string, file_bytes bigint",
        ).createOrReplaceTempView("_incoming_files")

    def classify(self, ingested_at: datetime) -> Counter[str]:
        # Checkpointed before anything is written: the retry flags must be judged against the
        # landing table as it was, never recomputed against rows this load has since appended.
        classification = classification_sql(_DIALECT, qualified(EVENT_IDS_TABLE), ingested_at)
        self.spark.sql(classification).localCheckpoint().createOrReplaceTempView("_classified")
        return Counter(dict(self.spark.sql(REJECTED_BY_REASON).collect()))

    def writing(self) -> AbstractContextManager[None]:
        """Nothing to open: the ledger rows, written last, are what marks a load done."""
        return nullcontext()

    def insert_loaded(self, load_id: str) -> None:
        self.spark.sql(
            _INSERT_LANDED.format(landing=qualified(LANDING_TABLE)), args={"load_id": load_id}
        )
        self.spark.sql(
            _INSERT_EVENT_IDS.format(event_ids=qualified(EVENT_IDS_TABLE)),
            args={"load_id": load_id},
        )

    def insert_rejected(self, ingested_at: datetime, load_id: str) -> None:
        self.spark.createDataFrame(
            list(REJECT_REASONS.items()), "reason string, reason_detail string"
        ).createOrReplaceTempView("_reason_details")
        self.spark.sql(
            _INSERT_REJECTED.format(rejected=qualified(REJECTED_TABLE)),
            args=_stamped(ingested_at, load_id),
        )

    def mark_days(self, ingested_at: datetime, load_id: str) -> set[date]:
        fct_orders = qualified("fct_orders")
        touched_sql = touched_days_sql(
            fct_orders if self.spark.catalog.tableExists(fct_orders) else None
        )
        touched = self.spark.sql(touched_sql).localCheckpoint()
        touched.createOrReplaceTempView("_touched_days")
        self.spark.sql(
            _MARK_DAYS.format(days=qualified(DAYS_TABLE)),
            args={"version": load_id, "ingested_at": _timestamp(ingested_at)},
        )
        return {row.order_date for row in touched.collect()}

    def insert_files(self, batch: Batch, ingested_at: datetime, load_id: str) -> list[FileLoad]:
        counts = self.spark.sql(_FILE_COUNTS, args=_stamped(ingested_at, load_id)).localCheckpoint()
        counts.write.insertInto(qualified(FILES_TABLE))
        return [
            FileLoad(r.source_file, r.line_count, r.loaded_count, r.rejected_count, r.retry_count)
            for r in counts.collect()
        ]


def _timestamp(value: datetime) -> str:
    """A naive UTC time as Spark's SQL reads it back with `cast(... as timestamp)`."""
    return value.isoformat(sep=" ")


def _stamped(ingested_at: datetime, load_id: str) -> dict[str, str]:
    return {"ingested_at": _timestamp(ingested_at), "load_id": load_id}


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
    return load_landing_files(
        _SparkEngine(spark),
        landing_dir,
        ingested_at=ingested_at,
        load_id=checked_load_id(load_id) if load_id else None,
        # one batch: a later batch's crash would leave rows under a load id with ledger rows
        batch_bytes=None,
    )
