"""The Dagster UI in a real browser: see the assets, launch the 14-day re-merge, read the checks.

`make e2e` runs this (it installs Debian's chromium first); plain `make test` deselects it
(marker `browser`). It starts its own `dagster dev` on a free 127.0.0.1 port with its own
DAGSTER_HOME, warehouse and landing dir, and stops every process it started.

What an operator does, and what is asserted:
1. Lineage page, all groups expanded: the assets are on the graph.
2. The 14-day re-merge from the UI: filter the graph to fct_orders and revenue_daily,
   *Materialize all…*, type the range 2026-03-01...2026-03-14, *Launch backfill*. The
   backfill is launched through the dialog, no GraphQL shortcut. It must complete as ONE
   run (single-run backfill policy), checked over GraphQL, with tables equal to the oracle.
3. The *Checks* tab of fct_orders: the reconciliation check lists one evaluation per day of
   the run, and each day's evaluation is recorded for that day (read from the GraphQL API
   the page uses).
4. One day tampered by hand (a cent added to an order of 2026-03-05), then
   `orders_checks_job` over the 14 days: the check's *Partitions* tab shows that day failed
   and the 13 others passed (the checks are daily-partitioned, like the marts).

Setup done over GraphQL, not the UI, and why: the "join the community" dialog a fresh
instance shows once (`setNuxSeen`), and stopping `late_data_remerge_sensor` after its
baseline tick. Left running, that sensor re-merges the downstream views our backfill made
stale, so the run list would hold more than the operator's run.

Screenshots of every step go to `e2e-artifacts/` (or `$E2E_ARTIFACTS`); the path is printed.
"""

import os
import re
import time
from pathlib import Path

import pytest
from dagster import DagsterInstance

from orders_platform.settings import REPO_ROOT
from orders_platform_tests.dagster_dev import (
    FAILED_RUNS,
    STOP_SENSOR,
    dagster_dev,
    graphql,
    isolated_dagster_home,
    launch_range_run,
    remerge_sensor,
    run_status,
    wait_for,
)
from orders_platform_tests.e2e.browser import Browser, chromium
from orders_platform_tests.expectations import expected_from
from orders_platform_tests.fixtures.late_events import on_time_wave
from orders_platform_tests.harness import Platform

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FIRST_DAY, LAST_DAY = "2026-03-01", "2026-03-14"
DAYS = [f"2026-03-{day:02d}" for day in range(1, 15)]
GRAPH_ASSETS = ("orders_landing", "landed_order_days", "stg_orders", "fct_orders", "revenue_daily")
RECONCILIATION = "reconciles_with_landing_fct_orders_orders"
TAMPERED_DAY = "2026-03-05"
TAMPER = f"""
update fct_orders set amount = amount + 0.01
where order_id = (
    select min(order_id) from fct_orders
    where order_date = '{TAMPERED_DAY}' and status not in ('cancelled', 'refunded')
)
"""

BACKFILL_QUERY = """
query Backfill($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    ... on PartitionBackfill {
      status
      partitionNames
      assetSelection { path }
      runs(limit: 100) { runId status tags { key value } }
    }
  }
}
"""
CHECK_EXECUTIONS = """
query Executions($check: String!) {
  assetCheckExecutions(assetKey: {path: ["fct_orders"]}, checkName: $check, limit: 100) {
    runId
    status
    evaluation { partition success }
  }
}
"""


def artifacts_dir() -> Path:
    return Path(os.environ.get("E2E_ARTIFACTS", REPO_ROOT / "e2e-artifacts")).resolve()


def open_asset_graph(browser: Browser, base: str) -> None:
    page = browser.page
    page.goto(f"{base}/asset-groups")
    page.get_by_role("button", name=re.compile(r"Materialize all")).wait_for()
    # ⌥E is the graph's own "Expand all groups" shortcut: every asset becomes a node.
    page.keyboard.press("Alt+e")
    nodes = page.locator("svg foreignObject")
    for asset in GRAPH_ASSETS:
        nodes.get_by_text(asset, exact=True).wait_for()
    browser.shot("asset-graph")


def launch_remerge_backfill(browser: Browser, base: str) -> str:
    """The runbook (docs/operations.md), in the UI. Returns the backfill id the UI reports."""
    page = browser.page
    page.goto(f"{base}/asset-groups")
    page.locator(".CodeMirror").first.click()  # the "Search and filter assets" box
    page.keyboard.type('key:"fct_orders" or key:"revenue_daily"')
    page.keyboard.press("Enter")
    nodes = page.locator("svg foreignObject")
    nodes.get_by_text("revenue_daily", exact=True).wait_for()
    assert nodes.get_by_text("orders_landing", exact=True).count() == 0
    browser.shot("two-marts-selected")

    page.get_by_role("button", name=re.compile(r"Materialize all")).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("Launch runs to materialize 2 assets").wait_for()
    dialog.locator('input[type="text"]').wait_for()  # the partition box: dialog rendered
    # It only lists the last 90 days until asked for all; the fixture's days may be older.
    show_all = dialog.get_by_text("Show all partitions")
    if show_all.count():
        show_all.click()
    days_box = dialog.get_by_placeholder(re.compile(r"^ex: "))
    days_box.fill(f"[{FIRST_DAY}...{LAST_DAY}]")
    days_box.press("Enter")  # the box applies its text on Enter (or blur)
    dialog.get_by_text("14 partitions", exact=True).wait_for()
    browser.shot("backfill-dialog-14-days")

    dialog.get_by_role("button", name="Launch backfill").click()
    toast = page.get_by_text(re.compile(r"Created backfill \w+"))
    toast.wait_for()
    browser.shot("backfill-launched")
    return re.search(r"Created backfill (\w+)", toast.inner_text()).group(1)


def backfill(port: int, backfill_id: str) -> dict:
    return graphql(port, BACKFILL_QUERY, {"id": backfill_id})["partitionBackfillOrError"]


def test_operator_sees_assets_launches_the_14_day_remerge_and_reads_per_day_checks(
    tmp_path, monkeypatch
):
    started = time.monotonic()
    home = isolated_dagster_home(tmp_path, monkeypatch)

    # landed and staged before the server starts, in the instance the server will use
    with DagsterInstance.from_config(str(home)) as instance:
        platform = Platform(root=tmp_path, instance=instance)
        files = on_time_wave()
        platform.land(files)
        assert platform.run_job("ingest_orders_job").success

    artifacts = artifacts_dir()
    print(f"\nscreenshots: {artifacts}")
    with dagster_dev(tmp_path / "dagster-dev.log") as port, chromium(artifacts) as ui:
        base = f"http://127.0.0.1:{port}"
        assert graphql(port, "mutation { setNuxSeen }")["setNuxSeen"]
        wait_for("the automation sensor's first tick", lambda: remerge_sensor(port)["ticks"], 180)
        stopped = graphql(port, STOP_SENSOR, {"id": remerge_sensor(port)["id"]})
        assert stopped["stopSensor"]["instigationState"]["status"] == "STOPPED", stopped

        open_asset_graph(ui, base)
        backfill_id = launch_remerge_backfill(ui, base)

        done = wait_for(
            f"backfill {backfill_id} to finish",
            lambda: (b := backfill(port, backfill_id))["status"] != "REQUESTED" and b,
            timeout=600,
            interval=3,
        )
        assert done["status"] == "COMPLETED_SUCCESS", done
        assert done["partitionNames"] == DAYS
        assert sorted(a["path"][0] for a in done["assetSelection"]) == [
            "fct_orders",
            "revenue_daily",
        ]
        [run] = done["runs"]  # the whole range is one run
        assert run["status"] == "SUCCESS", run
        tags = {t["key"]: t["value"] for t in run["tags"]}
        assert tags["dagster/asset_partition_range_start"] == FIRST_DAY
        assert tags["dagster/asset_partition_range_end"] == LAST_DAY
        assert tags["dagster/backfill"] == backfill_id
        assert graphql(port, FAILED_RUNS)["runsOrError"]["results"] == []

        page = ui.page
        page.goto(f"{base}/runs/b/{backfill_id}")
        page.get_by_text("Succeeded", exact=True).first.wait_for()
        ui.shot("backfill-succeeded")
        page.get_by_role("tab", name="Runs").click()
        page.get_by_text(run["runId"][:8]).first.wait_for()
        ui.shot("backfill-one-run")

        page.goto(f"{base}/assets/fct_orders?view=checks&checkDetail={RECONCILIATION}")
        page.get_by_role("tab", name="Execution history").wait_for()
        page.get_by_text(LAST_DAY, exact=True).wait_for()  # latest evaluation's partition
        ui.shot("reconciliation-check-latest")
        page.get_by_role("tab", name="Execution history").click()
        passed_rows = page.locator("table tbody tr").filter(has_text="Passed")
        wait_for("14 evaluations in the UI", lambda: passed_rows.count() == len(DAYS), 60)
        assert page.locator("table tbody tr").filter(has_text="Failed").count() == 0
        ui.shot("reconciliation-check-per-day")

        executions = graphql(port, CHECK_EXECUTIONS, {"check": RECONCILIATION})
        per_day = {
            e["evaluation"]["partition"]: (e["status"], e["evaluation"]["success"])
            for e in executions["assetCheckExecutions"]
            if e["runId"] == run["runId"]
        }
        assert per_day == dict.fromkeys(DAYS, ("SUCCEEDED", True))

        # 4. a tampered day among 13 good ones, found by a checks-only run
        with platform.connect() as conn:  # no run is writing: the backfill has finished
            conn.execute(TAMPER)
        checks_run = launch_range_run(port, "orders_checks_job", FIRST_DAY, LAST_DAY)
        status = wait_for(
            f"checks run {checks_run} to finish",
            lambda: (s := run_status(port, checks_run)) in ("SUCCESS", "FAILURE") and s,
            timeout=300,
            interval=2,
        )
        assert status == "FAILURE", "the tampered day fails its reconciliation"
        page.goto(f"{base}/assets/fct_orders?view=checks&checkDetail={RECONCILIATION}")
        page.get_by_role("tab", name="Execution history").wait_for()
        page.get_by_role("tab", name="Partitions").last.click()  # the check's, not the asset's
        page.get_by_text("Failed (1)").wait_for()
        page.get_by_text(f"Passed ({len(DAYS) - 1})").wait_for()
        ui.shot("reconciliation-check-partitions-one-day-failed")
        page.get_by_text("Passed (", exact=False).first.click()  # show only the failures
        page.get_by_text("Missing (", exact=False).first.click()
        page.get_by_text(TAMPERED_DAY, exact=True).first.wait_for()
        ui.shot("reconciliation-check-the-failed-day")

    expected = expected_from(files)
    days = {
        row[0]: row[1:]
        for row in platform.rows(
            "select order_date, orders, net_revenue from revenue_daily where orders > 0"
        )
    }
    assert days == {d.order_date: (d.orders, d.net_revenue) for d in expected.days.values()}
    shots = "\n  ".join(str(p) for p in ui.shots)
    print(f"UI backfill {backfill_id}: one run, 14 days, checks per day; screenshots:\n  {shots}")
    print(f"e2e took {time.monotonic() - started:.0f}s")
