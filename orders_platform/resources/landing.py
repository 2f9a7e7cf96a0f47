"""The landing zone: a directory producers drop complete JSON Lines files into.

The file convention lives here, with the zone, because every producer follows it (the
synthetic traffic generator, the replay of rejected lines) and ingestion relies on it: a
file is written as `*.tmp`, then renamed, and only `*.jsonl` files are ingested, so a file
is either invisible (still `.tmp`) or complete.
"""

from __future__ import annotations

from pathlib import Path

from dagster import ConfigurableResource
from pydantic import Field

from orders_platform import settings


class LandingZoneResource(ConfigurableResource):
    """Landing directory; `path` defaults to `ORDERS_LANDING_DIR` read at run time."""

    path: str | None = Field(
        default=None, description="Directory; unset means ORDERS_LANDING_DIR, else data/landing."
    )

    def directory(self) -> Path:
        return settings.resolve_path(self.path) if self.path else settings.landing_dir()


def write_complete_file(target: Path, lines: list[str]) -> Path:
    """Write `lines` to `target` so that it appears complete or not at all."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(target.suffix + ".tmp")
    partial.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    partial.rename(target)
    return target
