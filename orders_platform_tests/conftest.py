"""Shared fixtures. The dbt manifest must exist (`make manifest`, run by `make test`).

The merged histories are built once per session (`orders_platform_tests.snapshots`) and
each test gets its own copy, so a test may write to its platform freely.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from orders_platform.settings import DBT_PROJECT_DIR
from orders_platform_tests.fixtures.late_events import on_time_wave
from orders_platform_tests.harness import Platform, platform_at
from orders_platform_tests.snapshots import (
    Snapshot,
    SnapshotStore,
    land_late_wave,
    merge_on_time_wave,
    platform_copy,
    remerge_again,
    remerge_late_wave,
    store_for,
)


def pytest_configure(config: pytest.Config) -> None:
    """Give each xdist worker its own dbt target directory.

    dagster-dbt seeds every invocation with `$DBT_TARGET_PATH/partial_parse.msgpack`, and dbt
    discards that file when the profile (the warehouse path) differs from the one it was
    written for. One file per worker keeps the workers from invalidating each other's.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        os.environ["DBT_TARGET_PATH"] = str(DBT_PROJECT_DIR / "target" / worker)


# The longest tests (minutes each, mostly a real `dagster dev`), longest first.
LONGEST_FIRST = (
    "test_crash_safety.py",
    "test_bench_heal.py",
    "test_bench.py",
    "test_concurrent_backfills.py",
    "test_dagster_dev_e2e.py",
    "test_lateness.py",
)


def _workers(config: pytest.Config) -> int:
    workerinput = getattr(config, "workerinput", None)
    return int(workerinput["workercount"]) if workerinput else 1


@pytest.hookimpl(trylast=True)  # after `-m` has deselected what this run leaves out
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deal the longest tests out to the xdist workers, one each in turn, ahead of the rest.

    `--dist worksteal` hands each worker a contiguous share of the collection and lets an
    idle worker take the tail of a busy one's queue. A share that starts with a long test
    keeps its worker busy while the short tests are spread by stealing; long tests that sat
    in one share would run one after another on one worker while the other idles.
    """
    workers = _workers(config)
    # the share sizes worksteal hands out: each worker in turn gets remaining // workers left
    sizes, remaining = [], len(items)
    for left in range(workers, 0, -1):
        sizes.append(remaining // left)
        remaining -= sizes[-1]
    long = sorted(
        (item for item in items if item.path.name in LONGEST_FIRST),
        key=lambda item: LONGEST_FIRST.index(item.path.name),
    )
    rest = iter(item for item in items if item.path.name not in LONGEST_FIRST)
    shares: list[list[pytest.Item]] = [long[k::workers] for k in range(workers)]
    for share, size in zip(shares, sizes, strict=True):
        share.extend(next(rest) for _ in range(size - len(share)))
    shares[-1].extend(rest)  # none left unless a selection holds mostly long tests
    items[:] = [item for share in shares for item in share]


@pytest.fixture(scope="session")
def snapshots(tmp_path_factory: pytest.TempPathFactory) -> SnapshotStore:
    return store_for(tmp_path_factory)


@pytest.fixture(scope="session")
def merged_snapshot(snapshots: SnapshotStore) -> Snapshot:
    return snapshots.get("merged", merge_on_time_wave)


@pytest.fixture(scope="session")
def late_landed_snapshot(snapshots: SnapshotStore, merged_snapshot: Snapshot) -> Snapshot:
    return snapshots.get("late_landed", land_late_wave, base=merged_snapshot)


@pytest.fixture(scope="session")
def late_merged_snapshot(snapshots: SnapshotStore, late_landed_snapshot: Snapshot) -> Snapshot:
    return snapshots.get("late_merged", remerge_late_wave, base=late_landed_snapshot)


@pytest.fixture(scope="session")
def remerged_again_snapshot(snapshots: SnapshotStore, late_merged_snapshot: Snapshot) -> Snapshot:
    return snapshots.get("remerged_again", remerge_again, base=late_merged_snapshot)


@pytest.fixture(scope="session")
def platforms_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where this worker's tests copy their snapshots: the same path for every test, so the
    warehouse path in dbt's profile stays the same and dbt keeps its partial parse."""
    return tmp_path_factory.getbasetemp() / "platforms"


@pytest.fixture
def platform(tmp_path) -> Iterator[Platform]:
    with platform_at(tmp_path) as p:
        yield p


@pytest.fixture
def on_time_platform(platform: Platform) -> Platform:
    """A platform with the fixture's on-time wave landed (no dbt run yet)."""
    platform.land(on_time_wave())
    return platform


@pytest.fixture
def merged_platform(merged_snapshot: Snapshot, platforms_dir: Path) -> Iterator[Platform]:
    """On-time wave landed, staging built, and 2026-03-01..14 merged once (a copy)."""
    with platform_copy(merged_snapshot, platforms_dir / "merged") as p:
        yield p


@pytest.fixture
def late_landed_platform(late_landed_snapshot: Snapshot, platforms_dir: Path) -> Iterator[Platform]:
    """`merged_platform` with the late wave landed but not yet merged (a copy)."""
    with platform_copy(late_landed_snapshot, platforms_dir / "late_landed") as p:
        yield p


@pytest.fixture
def late_merged_platform(late_merged_snapshot: Snapshot, platforms_dir: Path) -> Iterator[Platform]:
    """The late wave re-merged over 03-01..14 (a copy); the re-merge's run id and webhook
    messages are in `late_merged_snapshot.facts`."""
    with platform_copy(late_merged_snapshot, platforms_dir / "late_merged") as p:
        yield p
