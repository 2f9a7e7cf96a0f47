"""The late-file scenario, against any running Dagster webserver (dagster dev or production).

A merged history is in the instance; the re-merge sensor is stopped so the late file's day
is seen STALE (not raced), then started again: automation re-merges the day as one run, its
order history follows and the revision notice goes out once. The same steps run against
`dagster dev` on SQLite (test_dagster_dev_e2e.py) and against the PostgreSQL deployment
(test_prod_deploy_e2e.py), so both prove the same behaviour.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from orders_platform.resources.landing import write_complete_file
from orders_platform.resources.warehouse import connect_warehouse
from orders_platform_tests.dagster_dev import (
    FAILED_RUNS,
    SENSOR,
    STOP_SENSOR,
    graphql,
    remerge_sensor,
    wait_for,
)
from orders_platform_tests.fixtures.late_events import event_line
from orders_platform_tests.harness import Platform, Receiver

DAY, NEIGHBOURS = "2026-03-02", ("2026-03-01", "2026-03-03")
ORDER = "o-0302-1"
STALE_QUERY = """
query Stale($partitions: [String!]!) {
  assetNodes(assetKeys: [{path: ["fct_orders"]}, {path: ["revenue_daily"]}]) {
    assetKey { path }
    staleStatusByPartition(partitions: $partitions)
  }
}
"""
START_SENSOR = """
mutation Start($sensor: SensorSelector!) {
  startSensor(sensorSelector: $sensor) { ... on Sensor { sensorState { status } } }
}
"""


def stale_statuses(port: int) -> dict[str, dict[str, str]]:
    partitions = [NEIGHBOURS[0], DAY, NEIGHBOURS[1]]
    nodes = graphql(port, STALE_QUERY, {"partitions": partitions})["assetNodes"]
    return {
        node["assetKey"]["path"][0]: dict(
            zip(partitions, node["staleStatusByPartition"], strict=True)
        )
        for node in nodes
    }


def day_stale_everywhere(statuses: dict[str, dict[str, str]]) -> dict | None:
    return statuses if all(s[DAY] == "STALE" for s in statuses.values()) else None


def order_before(platform: Platform) -> tuple[Decimal, Decimal]:
    """The order the late file refunds: its amount, and its day's net revenue before."""
    [(amount, before)] = platform.rows(
        "select amount, (select net_revenue from revenue_daily where order_date = ?) "
        "from fct_orders where order_id = ?",
        [DAY, ORDER],
    )
    return amount, before


def heal_a_late_file(port: int, landing: Path, amount: Decimal, receiver: Receiver) -> float:
    """Land a late refund of the order, see its day (only) go STALE with the re-merge sensor
    stopped, start the sensor and wait for the day to be FRESH and the notice to arrive.
    Returns seconds from the file landing to the day reading FRESH (sensor off time included).
    """
    # the automation sensor's first tick only records a baseline
    wait_for(
        "the automation sensor's first tick",
        lambda: remerge_sensor(port)["ticks"],
        timeout=180,
    )
    # Mark-only first (what a team that reviews before re-merging does): with the sensor
    # stopped nothing can heal the day, so STALE is observed, not raced.
    stopped = graphql(port, STOP_SENSOR, {"id": remerge_sensor(port)["id"]})
    assert stopped["stopSensor"]["instigationState"]["status"] == "STOPPED", stopped
    landed_at = time.monotonic()
    late = event_line(
        "late-e2e-1",
        ORDER,
        "c-late",
        "refunded",
        f'"{amount}"',
        "2026-03-02T09:00:00Z",
        datetime.now(UTC).isoformat(timespec="seconds"),
    )
    write_complete_file(landing / "late-e2e.jsonl", [late])

    stale = wait_for(
        f"{DAY} to read STALE",
        lambda: day_stale_everywhere(stale_statuses(port)),
        timeout=240,
    )
    for asset in ("fct_orders", "revenue_daily"):
        assert [stale[asset][n] for n in NEIGHBOURS] == ["FRESH", "FRESH"], stale

    # turning the sensor back on re-merges what went stale while it was off
    started = graphql(port, START_SENSOR, {"sensor": SENSOR})
    assert started["startSensor"]["sensorState"]["status"] == "RUNNING", started
    wait_for(
        f"{DAY} to be re-merged and FRESH",
        lambda: all(s[DAY] == "FRESH" for s in stale_statuses(port).values()),
        timeout=420,
        interval=2,
    )
    healed_after = time.monotonic() - landed_at
    # the notice comes from the order-history run automation launches after the heal
    wait_for("the revision notice", lambda: receiver.messages, timeout=240)
    # healed without a detour: no run was launched before its inputs were ready
    assert graphql(port, FAILED_RUNS)["runsOrError"]["results"] == []
    return healed_after


def assert_one_revision_and_one_notice(
    warehouse: Path, amount: Decimal, before: Decimal, receiver: Receiver
) -> None:
    """The refund is the day's one revision, and exactly one notice named the day."""
    with connect_warehouse(warehouse, read_only=True) as conn:
        revisions = conn.execute(
            "select net_revenue_delta, net_revenue from revenue_daily_revisions "
            "where order_date = ? and not is_first_version",
            [DAY],
        ).fetchall()
    assert revisions == [(-amount, before - amount)]
    assert len(receiver.messages) == 1 and DAY in receiver.messages[0]
