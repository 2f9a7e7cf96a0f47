"""The landing sensor's cursor stays small and its ticks stay right, however many files have
landed: a high-water mark of when files appeared, not a list of every name."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from dagster import build_sensor_context

from orders_platform.resources.landing import write_complete_file
from orders_platform.sensors.landing import landing_file_sensor
from orders_platform.sensors.landing_watermark import OVERLAP_NS
from orders_platform_tests.harness import Platform

# A cursor never holds more than a mark, a count and a digest.
MAX_CURSOR_CHARS = 100


class Ticks:
    """The landing sensor ticked as the daemon ticks it, from its own last cursor."""

    def __init__(self, platform: Platform, cursor: str | None = None) -> None:
        self.platform = platform
        self.cursor = cursor

    def requests(self) -> int:
        """One tick: how many runs it asked for."""
        context = build_sensor_context(instance=self.platform.instance, cursor=self.cursor)
        result = landing_file_sensor(context)
        self.cursor = getattr(result, "cursor", None) or context.cursor
        assert self.cursor is not None and len(self.cursor) < MAX_CURSOR_CHARS, self.cursor
        return len(getattr(result, "run_requests", None) or [])


def land(landing: Path, name: str, stamped_ns: int | None = None) -> Path:
    """Land a complete file the producers' way (write `.tmp`, rename); `stamped_ns` sets its
    modification time, as a host with another clock, or a copy keeping times, would."""
    path = write_complete_file(landing / name, ['{"event_id": "e"}'])
    if stamped_ns is not None:
        os.utime(path, ns=(stamped_ns, stamped_ns))
    return path


def test_ten_thousand_files_keep_the_cursor_small_and_a_new_one_is_one_run(platform):
    for n in range(10_000):
        land(platform.landing, f"{'history/' if n % 4 == 0 else ''}{n:05d}.jsonl")
    (platform.landing / "half-written.jsonl.tmp").write_text("{")
    ticks = Ticks(platform)
    assert ticks.requests() == 1
    assert ticks.requests() == 0
    assert ticks.requests() == 0
    land(platform.landing, "10000.jsonl")
    assert ticks.requests() == 1
    assert ticks.requests() == 0


def test_a_file_sharing_the_marks_timestamp_is_seen(platform):
    stamp = time.time_ns() + 3600 * 1_000_000_000  # ahead of every ctime here
    land(platform.landing, "a.jsonl", stamp)
    ticks = Ticks(platform)
    assert ticks.requests() == 1
    land(platform.landing, "b.jsonl", stamp)
    assert ticks.requests() == 1
    assert ticks.requests() == 0


def test_a_file_stamped_a_little_before_the_mark_is_seen_once(platform):
    stamp = time.time_ns() + 3600 * 1_000_000_000
    land(platform.landing, "a.jsonl", stamp)
    ticks = Ticks(platform)
    assert ticks.requests() == 1
    land(platform.landing, "skewed.jsonl", stamp - OVERLAP_NS // 2)
    assert ticks.requests() == 1
    assert ticks.requests() == 0


def test_a_cursor_of_the_former_format_starts_afresh_once(platform):
    land(platform.landing, "a.jsonl")
    ticks = Ticks(platform, cursor=json.dumps(["a.jsonl"]))
    assert ticks.requests() == 1
    assert ticks.requests() == 0


def test_no_landing_directory_is_nothing_to_do(platform):
    assert Ticks(platform).requests() == 0
