"""Late data under a real `dagster dev` (webserver + daemon): seen stale, healed by itself.

Starts its own `dagster dev` on a free 127.0.0.1 port with its own DAGSTER_HOME and the
project's dagster.yaml, and stops every process it started.
"""

import time
from datetime import UTC, datetime

import pytest
from dagster import DagsterInstance

from orders_platform.resources.landing import write_complete_file
from orders_platform.resources.warehouse import connect_warehouse
from orders_platform_tests.dagster_dev import (
    FAILED_RUNS,
    SENSOR,
    STOP_SENSOR,
    dagster_dev,
    graphql,
    isolated_dagster_home,
    remerge_sensor,
    wait_for,
)
from orders_platform_tests.fixtures.late_events import event_line
from orders_platform_tests.harness import Platform, Receiver

pytestmark = pytest.mark.slow

DAY, NEIGHBOURS = "2026-03-02", ("2026-03-01", "2026-03-03")
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


def test_a_late_file_turns_its_day_stale_then_fresh_with_a_revision_and_one_message(
    merged_snapshot, tmp_path, monkeypatch
):
    # the history, merged before the server starts (its instance is the one the server uses)
    root = tmp_path / "platform"
    merged_snapshot.copy_to(root)
    home = isolated_dagster_home(root, monkeypatch)
    with DagsterInstance.from_config(str(home)) as instance:
        platform = Platform(root=root, instance=instance)
        [(amount, before)] = platform.rows(
            "select amount, (select net_revenue from revenue_daily where order_date = ?) "
            "from fct_orders where order_id = 'o-0302-1'",
            [DAY],
        )
    with (
        Receiver() as receiver,
        dagster_dev(
            tmp_path / "dagster-dev.log", env={"ORDERS_SLACK_WEBHOOK_URL": receiver.url}
        ) as port,
    ):
        # the automation sensor's first tick only records a baseline
        wait_for(
            "the automation sensor's first tick",
            lambda: remerge_sensor(port)["ticks"],
            timeout=180,
        )
        # Mark-only first (what a team that reviews before re-merging does): with the
        # sensor stopped nothing can heal the day, so STALE is observed, not raced.
        stopped = graphql(port, STOP_SENSOR, {"id": remerge_sensor(port)["id"]})
        assert stopped["stopSensor"]["instigationState"]["status"] == "STOPPED", stopped
        landed_at = time.monotonic()
        late = event_line(
            "late-e2e-1",
            "o-0302-1",
            "c-late",
            "refunded",
            f'"{amount}"',
            "2026-03-02T09:00:00Z",
            datetime.now(UTC).isoformat(timespec="seconds"),
        )
        write_complete_file(root / "landing" / "late-e2e.jsonl", [late])

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

    with connect_warehouse(root / "warehouse.duckdb", read_only=True) as conn:
        revisions = conn.execute(
            "select net_revenue_delta, net_revenue from revenue_daily_revisions "
            "where order_date = ? and not is_first_version",
            [DAY],
        ).fetchall()
    assert revisions == [(-amount, before - amount)]
    assert len(receiver.messages) == 1 and DAY in receiver.messages[0]
    print(f"late file landed -> {DAY} fresh and reconciled in {healed_after:.0f}s")
