"""Smoke test on a real Spark standalone cluster: one master and one worker on 127.0.0.1.

The pip package has no `sbin/start-master.sh`, so the daemons are started with
`bin/spark-class`, each in its own process group, and every process the test started is
killed in a `finally` block. Ingestion runs against `spark://127.0.0.1:<port>` and must have
run its tasks on the worker's executor, not in the driver.
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
from orders_platform.resources.warehouse import read_warehouse
from orders_platform_tests.fixtures.late_events import on_time_wave, write_files

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


def _executor_task_counts(spark) -> dict[str, int]:
    """Tasks run per executor id (`driver` is the driver), from the app's status store."""
    executors = spark.sparkContext._jsc.sc().statusStore().executorList(True)
    return {
        executors.apply(i).id(): executors.apply(i).totalTasks() for i in range(executors.size())
    }


def test_ingestion_runs_its_tasks_on_a_standalone_cluster_executor(tmp_path, monkeypatch):
    from orders_platform.ingestion.spark_loader import load_new_files_spark
    from orders_platform.resources.spark import spark_session

    warehouse, landing = tmp_path / "spark-warehouse", tmp_path / "landing"
    monkeypatch.setenv("ORDERS_ENGINE", "spark")
    monkeypatch.setenv("ORDERS_SPARK_WAREHOUSE", str(warehouse))
    files = on_time_wave()
    write_files(files, landing)
    with standalone_cluster(tmp_path) as (master, master_json):
        monkeypatch.setenv("ORDERS_SPARK_MASTER", master)
        with spark_session() as spark:
            assert spark.sparkContext.master == master
            report = load_new_files_spark(spark, landing, ingested_at=files[-1].arrived_at)
            tasks = _executor_task_counts(spark)
        apps = _json(master_json)
    assert {f.source_file for f in report.files} == {f.name for f in files}
    executor_tasks = {executor: n for executor, n in tasks.items() if executor != "driver"}
    assert executor_tasks, f"no executor joined the application: {tasks}"
    assert sum(executor_tasks.values()) > 0, f"no task ran on an executor: {tasks}"
    assert [app["name"] for app in apps["completedapps"] + apps["activeapps"]] == [
        "orders_platform"
    ]
    with read_warehouse() as conn:
        assert conn.execute("select count(*) from orders_landing").fetchone()[0] == sum(
            len(f.lines) for f in files
        )
