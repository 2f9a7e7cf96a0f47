"""Replay quarantined lines once the producer (or the line) is fixed.

Rejected lines stay in `orders_rejected` for good: they are the audit trail of what a producer
sent. Replaying never edits them. It copies their raw text into a new landing file, which an
operator corrects if needed and then drops into the landing zone. The copy is an ordinary file
with a new name, so it is ingested exactly once, classified again by the same contract, and
accounted for like any other file (lines = loaded + rejected).

    python -m orders_platform.ingestion.replay --reason invalid_timestamp --out fix.jsonl
"""

import argparse
from pathlib import Path

import duckdb

from orders_platform import settings
from orders_platform.ingestion.contract import REJECT_REASONS
from orders_platform.resources.landing import write_complete_file
from orders_platform.resources.warehouse import connect_warehouse

_SELECT_REJECTED = """
select raw_line
from orders_rejected
where ($reason is null or reason = $reason)
  and ($source_file is null or source_file = $source_file)
order by source_file, source_line_number
"""


def export_rejected(
    conn: duckdb.DuckDBPyConnection,
    destination: Path,
    *,
    reason: str | None = None,
    source_file: str | None = None,
) -> int:
    """Write the matching rejected lines to `destination`, returning how many were written.

    The file appears complete or not at all (written as `*.tmp`, then renamed), so exporting
    straight into the landing zone is safe too.
    """
    if reason is not None and reason not in REJECT_REASONS:
        raise ValueError(f"unknown reason {reason!r}; expected one of {sorted(REJECT_REASONS)}")
    lines = [
        raw
        for (raw,) in conn.execute(
            _SELECT_REJECTED, {"reason": reason, "source_file": source_file}
        ).fetchall()
    ]
    write_complete_file(destination, lines)
    return len(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="file to write (*.jsonl)")
    parser.add_argument("--reason", choices=sorted(REJECT_REASONS), help="only this reason")
    parser.add_argument("--source-file", help="only lines of this landing file")
    args = parser.parse_args(argv)
    with connect_warehouse(settings.warehouse_path(), read_only=True) as conn:
        count = export_rejected(conn, args.out, reason=args.reason, source_file=args.source_file)
    print(f"wrote {count} rejected line(s) to {args.out}")


if __name__ == "__main__":
    main()
