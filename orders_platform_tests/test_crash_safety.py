"""kill -9 in the middle of a 14-day re-merge, under a real `dagster dev`, then retry.

The re-merge is one run and one dbt invocation. dbt-duckdb writes each incremental model in
one transaction: `BEGIN`, the model's `delete from …; insert into …` as one statement,
`COMMIT` (asserted from dbt's own debug log below). So a crash leaves every table either
exactly as before or fully re-merged over the whole window, never half a window.

What Dagster records: `_build` publishes the run's materializations and check results once
dbt has exited. A run killed after dbt committed fct_orders but before revenue_daily leaves
fct_orders re-merged while Dagster still shows the previous materialization and the days
still STALE. That is the safe direction: Dagster never claims data the tables do not hold;
it under-reports, so the range reads as needing a re-merge, and the retry (idempotent)
re-merges both tables and records every partition. The killed run is marked failed by the
code server that launched it (its run worker died), so its pool slot is freed.

Two kills in a row, then a retry from failure:
1. after fct_orders committed, during its tests (before revenue_daily): fct_orders equals a
   clean re-merge, revenue_daily equals the snapshot before, Dagster recorded nothing;
2. a relaunched backfill, killed while fct_orders' delete+insert statement runs: both tables
   are exactly as after kill 1 (merged_at included);
3. "re-execute from failure" through GraphQL: both tables equal a clean re-merge of the same
   warehouse, and every partition's latest materialization is that run, whose merge
   timestamp is on every row of the window.
"""

import contextlib
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, date, timedelta
from pathlib import Path
from typing import Any

import pytest
from dagster import AssetKey, DagsterEventType, DagsterInstance, DagsterRunStatus

from orders_platform.resources.warehouse import connect_warehouse
from orders_platform_tests.dagster_dev import (
    BIN_DIR,
    backfill_status,
    dagster_dev,
    graphql,
    isolated_dagster_home,
    launch_backfill,
    reexecute_from_failure,
    wait_for,
)
from orders_platform_tests.dbt_log import DbtDebugLog, node, statements
from orders_platform_tests.fixtures.late_events import late_wave, on_time_wave
from orders_platform_tests.fixtures.volume import volume_wave
from orders_platform_tests.harness import Platform, platform_at
from orders_platform_tests.tables import MARTS, marts_contents

pytestmark = pytest.mark.slow

WINDOW = ("2026-03-01", "2026-03-14")
# orders per day of bulk traffic: the window's delete+insert then runs for about a second
VOLUME_PER_DAY = 20_000
STALE_QUERY = """
query Stale($partitions: [String!]!) {
  assetNodes(assetKeys: [{path: ["fct_orders"]}, {path: ["revenue_daily"]}]) {
    assetKey { path }
    staleStatusByPartition(partitions: $partitions)
  }
}
"""


def window_days() -> list[str]:
    start, end = (date.fromisoformat(d) for d in WINDOW)
    return [(start + timedelta(days=n)).isoformat() for n in range((end - start).days + 1)]


def stale_days(port: int) -> dict[str, set[str]]:
    partitions = window_days()
    nodes = graphql(port, STALE_QUERY, {"partitions": partitions})["assetNodes"]
    return {
        node["assetKey"]["path"][0]: {
            day
            for day, status in zip(partitions, node["staleStatusByPartition"], strict=True)
            if status == "STALE"
        }
        for node in nodes
    }


def fct_orders_committed(event: dict[str, Any]) -> bool:
    return event["info"]["name"] == "LogModelResult" and node(event) == "fct_orders"


def fct_orders_delete_insert_issued(event: dict[str, Any]) -> bool:
    return (
        event["info"]["name"] == "SQLQuery"
        and node(event) == "fct_orders"
        and "delete from" in event["data"].get("sql", "")
    )


def run_worker_pid(instance: DagsterInstance, run_id: str) -> int | None:
    for entry in instance.all_logs(run_id, of_type=DagsterEventType.ENGINE_EVENT):
        found = re.search(r"Started process for run \(pid: (\d+)\)", entry.message)
        if found:
            return int(found.group(1))
    return None


def process_tree(root: int) -> list[int]:
    """`root` and all its descendants, read from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, pending = [], [root]
    while pending:
        pid = pending.pop()
        tree.append(pid)
        pending.extend(children.get(pid, []))
    return tree


def kill_dash_9(root: int) -> list[int]:
    """Freeze the run worker and its children (dbt) at one instant, then SIGKILL them all,
    as when the machine or container running the run dies."""
    for sig in (signal.SIGSTOP, signal.SIGKILL):
        tree = process_tree(root)
        for pid in tree:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
    return tree


def kill_when(
    instance: DagsterInstance, run_id: str, reached: Callable[[dict[str, Any]], bool]
) -> str:
    """Kill the run's processes as soon as dbt's log shows `reached`; describe the point."""
    log = DbtDebugLog(run_id)
    deadline = time.monotonic() + 300
    pid = None
    while time.monotonic() < deadline:
        # the worker's pid is known before dbt starts: look it up first, not at the kill point
        pid = pid or run_worker_pid(instance, run_id)
        events = log.poll()
        if pid is not None and any(reached(event) for event in events):
            killed = kill_dash_9(pid)
            last = log.poll()[-1]["info"]
            return f"{len(killed)} processes killed after dbt logged: {last['msg'][:120]!r}"
        time.sleep(0.02)
    raise AssertionError(f"dbt never reached the kill point in run {run_id}")


def backfill_run(port: int, backfill_id: str) -> str:
    runs = wait_for(
        "the backfill's run", lambda: backfill_status(port, backfill_id)["runs"], timeout=120
    )
    assert len(runs) == 1, runs  # single-run backfill policy: one run for the whole range
    return runs[0]["runId"]


def wait_finished(instance: DagsterInstance, run_id: str) -> DagsterRunStatus:
    return wait_for(
        f"run {run_id} to finish",
        lambda: (run := instance.get_run_by_id(run_id)) and run.is_finished and run.status,
        timeout=300,
        interval=0.5,
    )


def latest_materialization_runs(instance: DagsterInstance, asset: str) -> dict[str, str]:
    """For each partition of `asset`: the run of its latest recorded materialization."""
    latest: dict[str, str] = {}
    for record in instance.fetch_materializations(AssetKey(asset), limit=1000).records:
        latest.setdefault(record.partition_key, record.run_id)
    return latest


def merged_at_in_window(warehouse: Path) -> dict[str, set[Any]]:
    with connect_warehouse(warehouse, read_only=True) as conn:
        return {
            table: {
                value
                for (value,) in conn.execute(
                    f"select distinct merged_at from {table} where order_date between ? and ?",
                    list(WINDOW),
                ).fetchall()
            }
            for table in MARTS
        }


def test_a_re_merge_killed_mid_run_leaves_each_table_whole_and_a_retry_converges(
    tmp_path, monkeypatch
):
    home = isolated_dagster_home(tmp_path, monkeypatch)
    # only the runs this test launches: no automatic re-merge of the late days
    for sensor in ("late_data_remerge_sensor", "landing_file_sensor"):
        subprocess.run(
            [
                str(BIN_DIR / "dagster"),
                "sensor",
                "stop",
                "-m",
                "orders_platform.definitions",
                sensor,
            ],
            check=True,
            capture_output=True,
        )

    with DagsterInstance.from_config(str(home)) as instance:
        platform = Platform(root=tmp_path, instance=instance)
        platform.land([*on_time_wave(), volume_wave(VOLUME_PER_DAY)])
        assert platform.run_job("ingest_orders_job").success
        setup = platform.remerge(*WINDOW)
        assert setup.success
        platform.land(late_wave())
        before = marts_contents(platform.warehouse)

        # the reference: the same warehouse re-merged once, cleanly, apart
        (tmp_path / "clean").mkdir()
        shutil.copy(platform.warehouse, tmp_path / "clean" / "warehouse.duckdb")
        with platform_at(tmp_path / "clean") as clean:
            assert clean.remerge(*WINDOW).success
            remerged = marts_contents(clean.warehouse)
        assert all(before[t] != remerged[t] for t in MARTS)  # the re-merge changes both

        with dagster_dev(tmp_path / "dagster-dev.log") as port:
            stale_before = stale_days(port)
            assert stale_before["fct_orders"] and stale_before["revenue_daily"]

            # 1. killed after fct_orders committed, before revenue_daily
            first = backfill_run(port, launch_backfill(port, list(MARTS), window_days()))
            first_kill = kill_when(instance, first, fct_orders_committed)
            assert wait_finished(instance, first) == DagsterRunStatus.FAILURE
            after_first = marts_contents(platform.warehouse)
            assert after_first["fct_orders"] == remerged["fct_orders"]
            assert after_first["revenue_daily"] == before["revenue_daily"]
            # Dagster recorded nothing of the killed run: fct_orders under-reported, still STALE
            assert not instance.get_records_for_run(
                first, of_type=DagsterEventType.ASSET_MATERIALIZATION
            ).records
            assert stale_days(port) == stale_before
            first_merged_at = merged_at_in_window(platform.warehouse)

            # 2. the backfill relaunched, killed inside fct_orders' delete+insert
            second = backfill_run(port, launch_backfill(port, list(MARTS), window_days()))
            second_kill = kill_when(instance, second, fct_orders_delete_insert_issued)
            assert wait_finished(instance, second) == DagsterRunStatus.FAILURE
            assert "delete from" in statements(second, "fct_orders")[-1]  # no COMMIT
            assert marts_contents(platform.warehouse) == after_first
            assert merged_at_in_window(platform.warehouse) == first_merged_at
            assert stale_days(port) == stale_before

            # 3. retried from failure, as the run page's button does
            third = reexecute_from_failure(port, second)
            assert wait_finished(instance, third) == DagsterRunStatus.SUCCESS
            assert stale_days(port) == {"fct_orders": set(), "revenue_daily": set()}
            crash_records = {
                run_id: [
                    entry.message
                    for entry in instance.all_logs(run_id, of_type=DagsterEventType.ENGINE_EVENT)
                    if "terminated by signal 9" in entry.message
                ]
                for run_id in (first, second)
            }
            assert all(crash_records.values()), crash_records

        after_retry = marts_contents(platform.warehouse)
        assert after_retry == remerged
        third_run = instance.get_run_record_by_id(third)
        for asset in MARTS:
            assert latest_materialization_runs(instance, asset) == dict.fromkeys(
                window_days(), third
            )
        # every row of the window carries the retry's merge timestamp, written during it
        merged_at = merged_at_in_window(platform.warehouse)
        assert merged_at["fct_orders"] == merged_at["revenue_daily"]
        [stamp] = merged_at["fct_orders"]
        assert (
            third_run.start_time - 1 <= stamp.replace(tzinfo=UTC).timestamp() <= third_run.end_time
        )

        # each model's delete+insert is one statement between one BEGIN and its COMMIT
        for model in MARTS:
            sent = [sql.strip() for sql in statements(third, model)]
            begin = sent.index("BEGIN")
            [merge] = [sql for sql in sent if f'delete from "warehouse"."main"."{model}"' in sql]
            assert f'insert into "warehouse"."main"."{model}"' in merge
            assert sent[begin:].index(merge) < sent[begin:].index("COMMIT")
            assert sent.count("COMMIT") == 1

    print(
        f"kill 1 (run {first[:8]}): {first_kill}\nkill 2 (run {second[:8]}): {second_kill}\n"
        f"retry {third[:8]}: success; recorded: {crash_records[first][0][:90]!r}\n"
        f"rows compared: before {sum(map(len, before.values()))}, "
        f"after retry {sum(map(len, after_retry.values()))}"
    )
