"""Smoke test on a real Spark standalone cluster: one master and one worker on 127.0.0.1.

The pip package has no `sbin/start-master.sh`, so the daemons are started with
`bin/spark-class`, each in its own process group, and every process the test started is
killed in a `finally` block. The same build as on `local[2]` (the ingestion job, then the
14-day re-merge as one Dagster run) runs against `spark://127.0.0.1:<port>`, must match the
oracle, and every Spark application it started must have run tasks on the worker's
executor, not in the driver.
"""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from orders_platform.resources.spark import LOOPBACK
from orders_platform_tests.fixtures.late_events import on_time_wave, write_files
from orders_platform_tests.spark_harness import spark_platform_at
from orders_platform_tests.test_pipeline import assert_matches_oracle

pytestmark = pytest.mark.spark

_START_TIMEOUT_SECONDS = 180


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def _json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def _wait_for(condition, what: str, processes: list[subprocess.Popen]) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                raise RuntimeError(f"{what}: {process.args[-1]} exited with {process.returncode}")
        try:
            if condition():
                return
        except OSError:
            pass
        time.sleep(1)
    raise TimeoutError(f"{what} within {_START_TIMEOUT_SECONDS} s")


@contextmanager
def standalone_cluster(work_dir: Path) -> Iterator[tuple[str, str]]:
    """Start a master and one worker (1 core, 1 GB); yield (master URL, master JSON URL)."""
    import pyspark

    spark_home = Path(pyspark.__file__).parent
    env = {
        **os.environ,
        "SPARK_HOME": str(spark_home),
        "SPARK_LOCAL_IP": LOOPBACK,
        "SPARK_WORKER_DIR": str(work_dir / "worker"),
        "SPARK_LOG_DIR": str(work_dir / "logs"),
    }
    port, ui_port, worker_ui_port = _free_port(), _free_port(), _free_port()
    spark_class = str(spark_home / "bin" / "spark-class")
    commands = [
        [spark_class, "org.apache.spark.deploy.master.Master", "--host", LOOPBACK,
         "--port", str(port), "--webui-port", str(ui_port)],
        [spark_class, "org.apache.spark.deploy.worker.Worker", "--host", LOOPBACK,
         "--webui-port", str(worker_ui_port), "--cores", "1", "--memory", "1g",
         f"spark://{LOOPBACK}:{port}"],
    ]  # fmt: skip
    processes: list[subprocess.Popen] = []
    master_json = f"http://{LOOPBACK}:{ui_port}/json"
    try:
        for command in commands:
            log = (work_dir / f"{command[1].rsplit('.', 1)[-1]}.log").open("w")
            processes.append(
                subprocess.Popen(
                    command,
                    env=env,
                    cwd=work_dir,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own process group, killed as a whole
                )
            )
            if len(processes) == 1:
                _wait_for(lambda: _json(master_json)["status"] == "ALIVE", "master", processes)
        _wait_for(
            lambda: any(w["state"] == "ALIVE" for w in _json(master_json)["workers"]),
            "worker registered",
            processes,
        )
        yield f"spark://{LOOPBACK}:{port}", master_json
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in reversed(processes):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)


def _tasks_finished_by_executors(worker_dir: Path) -> dict[str, int]:
    """Tasks each application's executors finished, from their logs in the worker's dir.

    The worker keeps one directory per application (`<app id>/<executor id>/stderr`), and an
    executor logs every task it completes ("Finished task ..."); a task the driver ran
    itself appears in no executor's log.
    """
    return {
        app_dir.name: sum(
            stderr.read_text(errors="replace").count("Finished task")
            for stderr in app_dir.glob("*/stderr")
        )
        for app_dir in sorted(worker_dir.iterdir())
        if app_dir.is_dir()
    }


def test_the_build_runs_its_tasks_on_a_standalone_cluster_executor(tmp_path):
    """Ingestion, staging and the 14-day re-merge on `spark://127.0.0.1:<port>`."""
    files = on_time_wave()
    cluster_dir = tmp_path / "cluster"
    cluster_dir.mkdir()
    with standalone_cluster(cluster_dir) as (master, master_json):
        with spark_platform_at(tmp_path / "platform", master=master) as platform:
            write_files(files, platform.landing)
            ingested = platform.run_job("ingest_orders_job")
            remerged = platform.remerge("2026-03-01", "2026-03-14")
            if ingested.success and remerged.success:
                assert_matches_oracle(platform, files)
        apps = _json(master_json)
    assert ingested.success
    assert remerged.success
    # the platform's one session, which ingestion and both dbt builds ran in
    finished = [app for app in apps["completedapps"] if app["name"] == "orders_platform"]
    assert len(finished) == 1, apps
    tasks = _tasks_finished_by_executors(cluster_dir / "worker")
    assert {app["id"] for app in finished} <= set(tasks), tasks
    assert all(tasks[app["id"]] > 0 for app in finished), tasks
