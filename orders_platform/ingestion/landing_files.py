"""The landing-zone file convention, in one place: write `*.tmp`, then rename.

Only `*.jsonl` files are ingested, so a file is either invisible (still `.tmp`) or complete.
"""

from pathlib import Path


def write_complete_file(target: Path, lines: list[str]) -> Path:
    """Write `lines` to `target` so that it appears complete or not at all."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(target.suffix + ".tmp")
    partial.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    partial.rename(target)
    return target
