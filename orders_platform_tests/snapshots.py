"""Platform states built once per test session and copied for every test that uses them.

Most end-to-end tests start from the same history (the on-time wave merged, or the late wave
re-merged over it) and then assert on it or change it. Building that history costs several
real dbt runs; copying it costs milliseconds. A snapshot is a whole platform directory (the
DuckDB warehouse, the published day versions, the landing zone and a file-backed Dagster
home), so a copy is a platform in its own right: a test that writes changes only its copy.

Under pytest-xdist the workers share one snapshot directory: the first worker to need a
snapshot builds it under a file lock, and the others wait for it and reuse it. What a build
learned that tests assert on (run ids, webhook messages) is kept beside it in `facts.json`.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock

from orders_platform_tests.fixtures.late_events import late_wave, on_time_wave
from orders_platform_tests.harness import Platform, Receiver, platform_at

FIRST, LAST = "2026-03-01", "2026-03-14"
_FACTS = "facts.json"

Facts = dict[str, Any]


@dataclass(frozen=True)
class Snapshot:
    """A finished platform directory and what its build recorded."""

    root: Path
    facts: Facts

    def copy_to(self, root: Path) -> None:
        shutil.copytree(self.root, root, ignore=shutil.ignore_patterns(_FACTS))


@contextmanager
def platform_copy(snapshot: Snapshot, root: Path) -> Iterator[Platform]:
    """A writable platform at `root` (emptied first), starting as a copy of `snapshot`."""
    shutil.rmtree(root, ignore_errors=True)
    snapshot.copy_to(root)
    with platform_at(root, persistent=True) as platform:
        yield platform


class SnapshotStore:
    """Builds each named snapshot once, on the base of another one, and hands out copies."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def get(
        self,
        name: str,
        build: Callable[[Platform], Facts],
        base: Snapshot | None = None,
    ) -> Snapshot:
        done = self.root / name
        with FileLock(str(done) + ".lock"):
            if not done.exists():
                building = self.root / f"{name}.building"
                shutil.rmtree(building, ignore_errors=True)
                if base is not None:
                    base.copy_to(building)
                with platform_at(building, persistent=True) as platform:
                    facts = build(platform)
                (building / _FACTS).write_text(json.dumps(facts))
                building.rename(done)
        return Snapshot(done, json.loads((done / _FACTS).read_text()))


def store_for(tmp_path_factory: pytest.TempPathFactory) -> SnapshotStore:
    """One store per test session, shared by all xdist workers of that session."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # each worker's basetemp is a child of the session's
    return SnapshotStore(base / "snapshots")


def merge_on_time_wave(platform: Platform) -> Facts:
    """The on-time wave landed, ingested (staging built), 2026-03-01..14 merged once and its
    order history recorded."""
    platform.land(on_time_wave())
    assert platform.run_job("ingest_orders_job").success
    merged = platform.remerge(FIRST, LAST)
    assert merged.success
    assert platform.record_history(FIRST, LAST).success
    return {"run_id": merged.run_id}


def land_late_wave(platform: Platform) -> Facts:
    """The late wave landed on the merged history (recorded in Dagster), not yet merged."""
    platform.land(late_wave())
    return {}


def _remerge_with_receiver(platform: Platform) -> Facts:
    with Receiver() as receiver, pytest.MonkeyPatch.context() as mp:
        mp.setenv("ORDERS_SLACK_WEBHOOK_URL", receiver.url)
        result = platform.remerge(FIRST, LAST)
        assert result.success
        history = platform.record_history(FIRST, LAST)
        assert history.success
    return {
        "run_id": result.run_id,
        "history_run_id": history.run_id,
        "messages": receiver.messages,
        "webhook_url": receiver.url,
    }


def remerge_late_wave(platform: Platform) -> Facts:
    """2026-03-01..14 re-merged as one run over the landed late wave, then its order history
    recorded, with a webhook receiver listening (its messages are recorded)."""
    return _remerge_with_receiver(platform)


def remerge_again(platform: Platform) -> Facts:
    """The same 14 days re-merged once more with nothing new landed."""
    return _remerge_with_receiver(platform)
