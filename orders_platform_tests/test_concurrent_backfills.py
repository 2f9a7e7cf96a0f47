"""Two overlapping re-merge backfills launched at the same moment, under a real daemon.

Both go through `dagster dev` (webserver, daemon, code server) with the project's
dagster.yaml and the `duckdb_writer` pool at 1. A reader in another process holds the
warehouse read-only as the runs start (so the first writer, a re-merge's dbt or the landing
sensor's ingestion, finds the file locked and must wait for it), then keeps opening it like
a dashboard refreshing every second; the daemon's sensors tick throughout. What must hold:
every run succeeds, none logs a DuckDB lock error, the runs' step executions never overlap
(the pool serialized them), and the marts end up equal to one clean re-merge of the union
range on a copy of the same warehouse, and to the independent oracle.
"""

import shutil
import threading
import time
from datetime import date, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus

from orders_platform_tests.dagster_dev import (
    backfill_status,
    dagster_dev,
    isolated_dagster_home,
    launch_backfill,
    wait_for,
)
from orders_platform_tests.dbt_log import DbtDebugLog
from orders_platform_tests.expectations import expected_from
from orders_platform_tests.fixtures.late_events import both_waves
from orders_platform_tests.harness import Platform, platform_at
from orders_platform_tests.tables import MARTS, marts_contents

pytestmark = pytest.mark.slow

FIRST_RANGE = ("2026-03-01", "2026-03-14")
SECOND_RANGE = ("2026-03-08", "2026-03-21")
UNION = ("2026-03-01", "2026-03-21")
LOCK_ERROR = "Could not set lock"
# every partitioned mart, as the nightly re-merge builds them: backfilling only some would
# leave the as-of views behind, and the automation sensor would launch runs to catch up
BACKFILLED = (*MARTS, "revenue_daily_revisions", "revenue_daily_history", "finance_revenue_daily")


def days(first: str, last: str) -> list[str]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [(start + timedelta(days=n)).isoformat() for n in range((end - start).days + 1)]


class Reader(threading.Thread):
    """Opens the warehouse read-only once a second and holds it for 0.2 s, like a dashboard.

    Counts its reads, and the times it found a writer holding the file (it then retries: a
    reader waits, it never makes the writer fail).
    """

    def __init__(self, warehouse: Path) -> None:
        super().__init__(daemon=True)
        self.warehouse = warehouse
        self.stop = threading.Event()
        self.reads = 0
        self.waited_for_writer = 0

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                conn = duckdb.connect(str(self.warehouse), read_only=True)
            except duckdb.IOException as error:
                assert LOCK_ERROR in str(error)
                self.waited_for_writer += 1
                time.sleep(0.1)
                continue
            try:
                conn.execute("select count(*) from fct_orders").fetchone()
                time.sleep(0.2)
                self.reads += 1
            finally:
                conn.close()
            self.stop.wait(0.8)


def writer_waiting_on_reader(instance: DagsterInstance, runs_before: set[str]) -> str | None:
    """A new run that has begun opening the warehouse to write it, if any: a re-merge whose
    dbt is opening its connection, or an ingestion (started by the landing sensor) whose
    loading step has started."""
    for run in instance.get_runs():
        if run.run_id in runs_before:
            continue
        if run.job_name == "ingest_orders_job":
            started = instance.all_logs(run.run_id, of_type=DagsterEventType.STEP_START)
            if any(entry.step_key == "orders_landing" for entry in started):
                return f"{run.job_name} {run.run_id[:8]}"
        elif any(
            event["info"]["name"] == "NewConnectionOpening"
            for event in DbtDebugLog(run.run_id).poll()
        ):
            return f"{run.job_name} {run.run_id[:8]}"
    return None


def step_interval(instance: DagsterInstance, run_id: str) -> tuple[float, float]:
    """From the run's first step start to its last step end (event timestamps)."""
    stamps = [
        entry.timestamp
        for entry in instance.all_logs(run_id)
        if entry.dagster_event_type
        in (
            DagsterEventType.STEP_START,
            DagsterEventType.STEP_SUCCESS,
            DagsterEventType.STEP_FAILURE,
        )
    ]
    return min(stamps), max(stamps)


def lock_errors(instance: DagsterInstance, run_id: str) -> list[str]:
    return [
        entry.message
        for entry in instance.all_logs(run_id)
        if LOCK_ERROR in entry.message
        or (entry.error_info is not None and LOCK_ERROR in entry.error_info.to_string())
    ]


def test_overlapping_backfills_at_the_same_moment_run_one_at_a_time_and_equal_one_clean_run(
    late_landed_snapshot, tmp_path, monkeypatch
):
    # on-time wave merged for 03-01..14 (FIRST_RANGE), then the late wave landed, not merged
    root = tmp_path / "platform"
    late_landed_snapshot.copy_to(root)
    home = isolated_dagster_home(root, monkeypatch)
    with DagsterInstance.from_config(str(home)) as instance:
        platform = Platform(root=root, instance=instance)
        runs_before = {run.run_id for run in instance.get_runs()}

        # the reference: the same warehouse, re-merged over the union range in one run, apart
        (tmp_path / "clean").mkdir()
        shutil.copy(platform.warehouse, tmp_path / "clean" / "warehouse.duckdb")
        with platform_at(tmp_path / "clean") as clean:
            assert clean.remerge(*UNION).success
            expected = marts_contents(clean.warehouse)

        reader = Reader(platform.warehouse)
        # a reader holds the file as the runs start: the first writer must wait, not fail
        held = duckdb.connect(str(platform.warehouse), read_only=True)
        with dagster_dev(tmp_path / "dagster-dev.log") as port:
            barrier = threading.Barrier(2)
            backfill_ids: dict[tuple[str, str], str] = {}

            def launch(window: tuple[str, str]) -> None:
                barrier.wait()
                backfill_ids[window] = launch_backfill(port, list(BACKFILLED), days(*window))

            launchers = [
                threading.Thread(target=launch, args=(w,)) for w in (FIRST_RANGE, SECOND_RANGE)
            ]
            for thread in launchers:
                thread.start()
            for thread in launchers:
                thread.join()
            launched_at = datetime.now()
            first_open = wait_for(
                "a writer to open the warehouse while the reader holds it",
                lambda: writer_waiting_on_reader(instance, runs_before),
                timeout=300,
                interval=0.2,
            )
            time.sleep(2)  # the writer found the file locked; let it wait a little
            held.close()
            reader.start()

            statuses = wait_for(
                "both backfills to finish",
                lambda: (
                    (s := {w: backfill_status(port, i)["status"] for w, i in backfill_ids.items()})
                    and all(
                        v in ("COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED") for v in s.values()
                    )
                    and s
                ),
                timeout=600,
                interval=2,
            )
            # runs the daemon's sensors started meanwhile (e.g. ingestion) finish too
            wait_for(
                "every run to finish",
                lambda: all(
                    run.is_finished for run in instance.get_runs() if run.run_id not in runs_before
                ),
                timeout=300,
                interval=2,
            )
            reader.stop.set()
            reader.join()
        server_log = (tmp_path / "dagster-dev.log").read_text()

        runs = [run for run in instance.get_runs() if run.run_id not in runs_before]
        intervals = sorted((*step_interval(instance, run.run_id), run.job_name) for run in runs)
        errors = {run.run_id: lock_errors(instance, run.run_id) for run in runs}
        print(
            f"backfills launched at {launched_at:%H:%M:%S}: {statuses}; runs launched: "
            f"{len(runs)} ({', '.join(sorted(run.job_name for run in runs))}); "
            f"lock errors in run logs: {sum(map(len, errors.values()))}; reader: "
            f"{reader.reads} reads, waited for a writer {reader.waited_for_writer} times; "
            f"{first_open} opened the file while a reader held it"
        )

    assert set(statuses.values()) == {"COMPLETED_SUCCESS"}, statuses
    assert [run.status for run in runs] == [DagsterRunStatus.SUCCESS] * len(runs)
    assert len(runs) >= 2  # one run per backfill (single-run policy), plus any sensor runs
    assert errors == {run.run_id: [] for run in runs}
    assert LOCK_ERROR not in server_log
    assert reader.reads > 0
    for (_, end, _), (start, _, _) in pairwise(intervals):
        assert end <= start, f"runs overlapped: {intervals}"

    actual = marts_contents(
        platform.warehouse,
    )
    assert actual == expected
    oracle = expected_from(both_waves())
    assert {row[0]: row[2] for row in actual["fct_orders"]} == {
        order_id: order.status for order_id, order in oracle.orders.items()
    }
    assert {row[0]: row[1:] for row in actual["revenue_daily"] if row[1] > 0} == {
        day: (t.orders, t.net_revenue, t.cancelled_orders, t.refunded_amount)
        for day, t in oracle.days.items()
    }
    print(f"rows compared with the clean run: {sum(len(rows) for rows in actual.values())}")
