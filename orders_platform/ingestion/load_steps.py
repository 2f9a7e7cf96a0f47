"""The steps of a load, written once for DuckDB and Spark.

List the complete landing files not loaded before; then, per batch of them: stage every
line, classify the lines (`classification`), insert the loaded rows, the rejected rows, the
day versions and, last, the ledger rows (`orders_landing_files`); report what happened.
What an engine must do its own way (reading files, writing tables, keeping a load safe from
a crash) is behind `LoadEngine`: `loader` (DuckDB) and `spark_loader` implement it, and
their docstrings say how each keeps a file loaded exactly once.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Protocol

from orders_platform.ingestion.contract import LANDING_FILE_GLOB


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


@dataclass(frozen=True)
class Batch:
    """Landing files staged, classified and written together."""

    paths: list[Path]
    # each file's path relative to the landing zone: its `source_file`
    names: list[str]
    sizes: list[int]


class LoadEngine(Protocol):
    """The engine-specific half of a load, called in this order for each batch."""

    def prepare(self) -> tuple[list[str], set[str]]:
        """Make the tables ready; return the changes made and the files loaded before."""
        ...

    def stage(self, batch: Batch) -> None:
        """Every line of the batch in `_incoming_lines` (see `classification_sql`), the
        lines that are not valid UTF-8 marked `invalid_utf8` (see `split_undecodable`)."""
        ...

    def classify(self, ingested_at: datetime) -> Counter[str]:
        """`_incoming_lines` classified into `_classified`; return the rejected by reason."""
        ...

    def writing(self) -> AbstractContextManager[None]:
        """Around the writes of one batch: what makes them safe if the load dies."""
        ...

    def insert_loaded(self, load_id: str) -> None:
        """The valid rows, stamped as `_classified` says (`classification_sql`), and the
        event ids they bring that had not landed before (`schema.EVENT_IDS_TABLE`)."""
        ...

    def insert_rejected(self, ingested_at: datetime, load_id: str) -> None: ...

    def mark_days(self, ingested_at: datetime, load_id: str) -> set[date]:
        """A new version (the load id) for each day the batch touched; return those days."""
        ...

    def insert_files(self, batch: Batch, ingested_at: datetime, load_id: str) -> list[FileLoad]:
        """The ledger rows, one per file of the batch, written after the batch's rows."""
        ...


def pending_files(landing_dir: Path) -> list[Path]:
    """Complete landing files (`*.jsonl`, never `*.tmp`), in name order."""
    if not landing_dir.is_dir():
        return []
    return sorted(p for p in landing_dir.rglob(LANDING_FILE_GLOB) if p.is_file())


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


# The days a batch touches: where its new snapshots are dated, and where those orders are
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


def touched_days_sql(fct_orders: str | None) -> str:
    """The query for the days `_classified` touches; `fct_orders` is the table as the engine
    names it, None before dbt has built it."""
    if fct_orders is None:
        return _TOUCHED_DAYS
    return _TOUCHED_DAYS + _TOUCHED_DAYS_FROM_FCT.format(fct_orders=fct_orders)


def _batches(landing_dir: Path, files: list[Path], batch_bytes: int | None) -> Iterator[Batch]:
    """`files` in batches of about `batch_bytes` (None: all in one batch)."""

    def batch(paths: list[Path], sizes: list[int]) -> Batch:
        return Batch(paths, [p.relative_to(landing_dir).as_posix() for p in paths], sizes)

    paths: list[Path] = []
    sizes: list[int] = []
    total = 0
    for path in files:
        size = path.stat().st_size
        if paths and batch_bytes is not None and total + size > batch_bytes:
            yield batch(paths, sizes)
            paths, sizes, total = [], [], 0
        paths.append(path)
        sizes.append(size)
        total += size
    if paths:
        yield batch(paths, sizes)


def load_landing_files(
    engine: LoadEngine,
    landing_dir: Path,
    *,
    ingested_at: datetime | None,
    load_id: str | None,
    batch_bytes: int | None,
) -> LoadReport:
    """Load every landing file not loaded before, stamping `event_ingested_at`.

    `ingested_at` defaults to now (UTC); `load_id` (default: a new one) ties the rows to the
    run that loaded them; `batch_bytes` bounds a batch (None: one batch for the whole load).
    """
    arrived = (ingested_at or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    report = LoadReport(load_id=load_id or uuid.uuid4().hex, ingested_at=arrived)
    report.migrations, loaded_before = engine.prepare()
    new_files = []
    for path in pending_files(landing_dir):
        if path.relative_to(landing_dir).as_posix() in loaded_before:
            report.skipped_files += 1
        else:
            new_files.append(path)
    touched_days: set[date] = set()
    for batch in _batches(landing_dir, new_files, batch_bytes):
        engine.stage(batch)
        rejected_by_reason = engine.classify(arrived)
        with engine.writing():
            engine.insert_loaded(report.load_id)
            engine.insert_rejected(arrived, report.load_id)
            touched = engine.mark_days(arrived, report.load_id)
            files = engine.insert_files(batch, arrived, report.load_id)
        report.files.extend(sorted(files, key=lambda f: f.source_file))
        report.rejected_by_reason.update(rejected_by_reason)
        touched_days |= touched
    report.touched_days = sorted(touched_days)
    return report
