"""A deployment's first partition day (`ORDERS_FIRST_PARTITION_DAY`).

Read when the code location loads (the partitions are built then), so each check loads it in
a process of its own with the setting in the environment, as a code server does. A later
first day hides the earlier partitions from Dagster and never touches their data.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date

import pytest

from orders_platform import settings
from orders_platform.settings import REPO_ROOT
from orders_platform_tests.dagster_dev import BIN_DIR

FIRST_KEYS = """
from orders_platform.definitions import defs
from orders_platform.ingestion.landed_days import LANDED_ORDER_DAYS
for key in ("fct_orders", "revenue_daily", "order_history", LANDED_ORDER_DAYS):
    print(key, defs.get_assets_def(key).partitions_def.get_first_partition_key())
"""


def test_the_first_day_defaults_to_2025_01_01_and_is_read_from_the_environment(monkeypatch):
    monkeypatch.delenv("ORDERS_FIRST_PARTITION_DAY", raising=False)
    assert settings.first_partition_day() == date(2025, 1, 1)
    monkeypatch.setenv("ORDERS_FIRST_PARTITION_DAY", "2026-11-07")
    assert settings.first_partition_day() == date(2026, 11, 7)
    monkeypatch.setenv("ORDERS_FIRST_PARTITION_DAY", "07/11/2026")
    with pytest.raises(ValueError, match="ORDERS_FIRST_PARTITION_DAY='07/11/2026'"):
        settings.first_partition_day()


def _load(first_day: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "ORDERS_FIRST_PARTITION_DAY"}
    if first_day is not None:
        env["ORDERS_FIRST_PARTITION_DAY"] = first_day
    return subprocess.run(
        [sys.executable, "-c", FIRST_KEYS],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_every_partitioned_asset_starts_on_the_first_day_the_code_location_loads_with():
    loaded = _load("2026-03-05")
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    firsts = dict(line.split() for line in loaded.stdout.splitlines())
    assert set(firsts.values()) == {"2026-03-05"}, firsts
    assert len(firsts) == 4


def test_a_malformed_first_day_fails_the_load_naming_the_variable():
    loaded = _load("March 5th")
    assert loaded.returncode != 0
    assert "ORDERS_FIRST_PARTITION_DAY='March 5th'" in loaded.stderr


@pytest.mark.slow
def test_a_later_first_day_hides_earlier_days_from_dagster_and_keeps_their_rows(merged_platform):
    """03-01..14 merged; the code location reloaded with 03-05 as its first day: 03-05.. still
    re-merge, 03-01..04 can no longer be launched, and their rows stay as they were."""

    def early_rows() -> list[tuple]:
        return merged_platform.rows(
            "select order_id, order_date, amount, status from fct_orders "
            "where order_date < '2026-03-05' order by order_id"
        )

    before = early_rows()
    early_revenue = merged_platform.rows(
        "select order_date, net_revenue from revenue_daily order by order_date"
    )
    assert before and len(early_revenue) == 14
    env = {
        **os.environ,
        "DAGSTER_HOME": str(merged_platform.root / "dagster_home"),
        "ORDERS_FIRST_PARTITION_DAY": "2026-03-05",
    }

    def materialize(partition_range: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [
                str(BIN_DIR / "dagster"),
                "asset",
                "materialize",
                "-m",
                "orders_platform.definitions",
                "--select",
                "fct_orders,revenue_daily",
                "--partition-range",
                partition_range,
            ],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    refused = materialize("2026-03-01...2026-03-02")
    assert refused.returncode != 0
    assert "containing the passed partition key `2026-03-01`" in refused.stderr
    remerged = materialize("2026-03-05...2026-03-06")
    assert remerged.returncode == 0, remerged.stderr[-3000:]

    assert early_rows() == before
    assert (
        merged_platform.rows("select order_date, net_revenue from revenue_daily order by 1")
        == early_revenue
    )
