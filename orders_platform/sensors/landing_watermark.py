"""The landing sensor's cursor: a high-water mark of when files appeared, of constant size.

The file ledger (`orders_landing_files`, in the warehouse) says which files were loaded; the
sensor cannot read it (a run may hold the DuckDB file's lock), and it need not: it only
decides *whether* to start the ingestion job, which loads exactly the files the ledger does
not list yet. So the cursor keeps no file names, only
- `high_water_ns`: the newest moment a landing file appeared, and
- a fingerprint (`window_files`, `window_digest`) of the files that appeared within
  `OVERLAP_NS` before it.

When a file appeared is its inode change time (ctime; the modification time where that is
later). Producers write `name.jsonl.tmp` and rename it (docs/ingestion.md), and a rename sets
the ctime to the moment the file became visible, whereas the modification time is when its
last byte was written, possibly long before, and copies (`cp -p`, `rsync -t`) can set it to
anything. A tick lists the landing tree once (`os.scandir`, one `stat` per `*.jsonl` file)
and keeps only files that appeared from `OVERLAP_NS` before the mark on: its memory and the
cursor do not grow with the files that ever landed.

There is something new when a file appeared after the mark, or when the fingerprint of the
overlap window changed: a file appeared with a time at or just before the mark. That covers
files sharing the mark's timestamp (the file system's clock is coarse: a burst of renames
shares one tick of it) and clocks a little apart (a file renamed on a host whose clock is
behind, on a shared file system). A file that appears stamped more than `OVERLAP_NS` before
the mark is not seen by the sensor; `hourly_ingestion_schedule` loads it within the hour. A
spurious start is harmless: the ingestion job is idempotent (the ledger skips loaded files),
so a file removed from the window, or one whose ctime moved (chmod), costs at most one run
with nothing to load.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from orders_platform.ingestion.contract import LANDING_FILE_GLOB

# How far before the high-water mark a file may be stamped and still be seen: more than any
# clock skew between producers sharing the landing zone, and than the file system's
# timestamp granularity.
OVERLAP_NS = 60 * 1_000_000_000


@dataclass(frozen=True)
class Watermark:
    high_water_ns: int
    window_files: int
    window_digest: str

    def to_cursor(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_cursor(cls, cursor: str | None) -> Watermark | None:
        """The watermark a cursor holds; None for none, or for a cursor of another format
        (the former list of every file name), which then starts afresh."""
        try:
            return cls(**json.loads(cursor)) if cursor else None
        except (TypeError, ValueError):
            return None


@dataclass(frozen=True)
class LandingChange:
    watermark: Watermark
    new_files: int  # files newer than the previous mark, or new to its window


def _landing_files(directory: Path) -> Iterator[tuple[str, int]]:
    """(relative path, when it appeared in ns) of every complete landing file under
    `directory`, in no particular order."""
    pending = [directory]
    while pending:
        current = pending.pop()
        try:
            with os.scandir(current) as listing:
                entries = list(listing)
        except (FileNotFoundError, NotADirectoryError):
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                pending.append(Path(entry.path))
            elif fnmatch.fnmatch(entry.name, LANDING_FILE_GLOB) and entry.is_file():
                try:
                    stat = entry.stat()
                except FileNotFoundError:  # gone since the listing
                    continue
                relative = Path(entry.path).relative_to(directory).as_posix()
                yield relative, max(stat.st_ctime_ns, stat.st_mtime_ns)


def _fingerprint(files: list[tuple[str, int]]) -> tuple[int, str]:
    digest = hashlib.sha256()
    for name, appeared_ns in sorted(files):
        digest.update(f"{name}\0{appeared_ns}\n".encode())
    return len(files), digest.hexdigest()[:16]


def scan(directory: Path, previous: Watermark | None) -> LandingChange:
    """What landed in `directory` since `previous`, and the watermark to keep from here."""
    since = previous.high_water_ns - OVERLAP_NS if previous else None
    recent = [f for f in _landing_files(directory) if since is None or f[1] >= since]
    high_water_ns = max([appeared for _, appeared in recent], default=0)
    if previous:
        high_water_ns = max(high_water_ns, previous.high_water_ns)
        newer = sum(appeared > previous.high_water_ns for _, appeared in recent)
        old_window = [f for f in recent if f[1] <= previous.high_water_ns]
        count, digest = _fingerprint(old_window)
        changed = digest != previous.window_digest
        new_files = newer + (max(1, count - previous.window_files) if changed else 0)
    else:
        new_files = len(recent)
    window = [f for f in recent if f[1] >= high_water_ns - OVERLAP_NS]
    window_files, window_digest = _fingerprint(window)
    return LandingChange(Watermark(high_water_ns, window_files, window_digest), new_files)
