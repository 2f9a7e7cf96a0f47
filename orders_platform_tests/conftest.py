"""Shared fixtures. The dbt manifest must exist (`make manifest`, run by `make test`)."""

from __future__ import annotations

import pytest

from orders_platform_tests.fixtures.late_events import on_time_wave
from orders_platform_tests.harness import Platform, platform_at


@pytest.fixture
def platform(tmp_path) -> Platform:
    with platform_at(tmp_path) as p:
        yield p


@pytest.fixture
def on_time_platform(platform: Platform) -> Platform:
    """A platform with the fixture's on-time wave landed (no dbt run yet)."""
    platform.land(on_time_wave())
    return platform


@pytest.fixture
def merged_platform(on_time_platform: Platform) -> Platform:
    """On-time wave landed, staging built, and 2026-03-01..14 merged once."""
    assert on_time_platform.run_job("ingest_orders_job").success
    assert on_time_platform.remerge("2026-03-01", "2026-03-14").success
    return on_time_platform
