"""Every private Dagster and dagster-dbt name the platform relies on, and the hooks built on them.

Private names can change in any release (setup.py pins both packages exactly), so they are
kept here, where an upgrade is checked in one place (orders_platform_tests/test_dbt_resource.py
asserts the hooked names still exist upstream), and every other module imports them from here.

The hooks make dbt run inside the Dagster run's process instead of in a subprocess per
invocation (`dbt_runner`, `InProcessDbtCli`). dagster-dbt starts dbt as a subprocess for every
invocation, and each start pays again for Python, dbt's imports, adapter registration and
project loading, while the run worker already has a process of its own that executes its
steps one at a time (`in_process_executor`). dbt runs there through its programmatic entry
point (`dbtRunner`), fed to dagster-dbt as what it takes for the subprocess: `Popen` whose
stdout yields the JSON lines dbt would print with `--log-format json`. Two more of
dagster-dbt's per-invocation costs go: its `dbt --version` subprocess (the version comes from
the installed dbt-core package) and the second adapter it opens only to fetch column metadata
and row counts, which the platform never asks for.

`ORDERS_DBT_IN_PROCESS=false` turns every hook off: stock dagster-dbt, a dbt subprocess per
invocation (`settings.dbt_in_process`). Nothing else changes: dagster-dbt builds the command,
selection, environment and target directory either way.

One hook serves the production instance (deploy/dagster.yaml) and sits in its own module,
`orders_platform.dagster_internals.postgres`, so that loading the code location does not
import dagster-postgres: its event log keeps its connections between writes.

What running in process adds over a subprocess:
- the invocation's environment is the process's while dbt runs (dbt reads its flags and
  `env_var()` from `os.environ`), and is restored afterwards; dbt's cache of the
  `DBT_ENV_CUSTOM_ENV_*` variables it records in its artifacts is reset first, as dbt's own
  test utilities do between in-process invocations;
- dbt is not safe for concurrent invocations in one process: a lock serializes them;
- the engine is released when dbt returns, as a subprocess's exit would: dbt-duckdb keeps its
  database open (and the file's write lock held) after an invocation, and dbt-spark leaves
  its Spark session and JVM running. A Spark session that was running with the run's settings
  before dbt started is dbt's to use and is left running (`resources.spark.spark_session`:
  whoever starts a session ends it).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from functools import cached_property
from importlib.metadata import version as installed_version
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import dagster_dbt.core.dbt_cli_invocation as dagster_dbt_invocation
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData,
)
from dagster._core.definitions.data_version import DATA_VERSION_TAG
from dagster._core.errors import DagsterExecutionInterruptedError
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
    PARTITION_NAME_TAG,
)
from dagster_dbt import DbtCliResource
from packaging.version import Version

from orders_platform import settings
from orders_platform.resources.spark import end_spark, holds_session, spark_conf

__all__ = [
    "ASSET_PARTITION_RANGE_END_TAG",
    "ASSET_PARTITION_RANGE_START_TAG",
    "DATA_VERSION_TAG",
    "PARTITION_NAME_TAG",
    "AssetCheckEvaluationTargetMaterializationData",
    "InProcessDbtCli",
    "dbt_runner",
    "environment",
]

# dbt's own log levels of the lines a subprocess would print at the default `--log-level`
_STDOUT_LEVELS = frozenset({"info", "warn", "error"})
# dbt's exit codes: success, a handled failure (a failing test, a model error), a crash
_SUCCESS, _FAILURE, _CRASH = 0, 1, 2

_one_dbt_at_a_time = threading.Lock()


@contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set `values` in this process's environment for the block, then restore it."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def _working_directory(path: Path) -> Iterator[None]:
    previous = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


def _spark_held() -> bool:
    """On Spark: whether this process already runs a session with the invocation's settings
    (its environment applied), which dbt's Spark adapter then uses and the invocation leaves
    running (see `spark_session`)."""
    if "pyspark" not in sys.modules:
        return False
    return holds_session(spark_conf(settings.spark_master(), settings.spark_warehouse()))


def _release_engine(*, spark_held: bool) -> None:
    """Close what dbt's adapter leaves open in this process after an invocation, except a
    Spark session that was running before it."""
    duckdb_adapter = sys.modules.get("dbt.adapters.duckdb.connections")
    if duckdb_adapter is not None:
        manager = duckdb_adapter.DuckDBConnectionManager
        with manager._LOCK:
            if manager._ENV is not None:
                manager._ENV.close()
                manager._ENV = None
    if "pyspark" in sys.modules and not spark_held:
        end_spark()


class _Lines:
    """dbt's output as the lines of a pipe; dbt runs when they are first read."""

    def __init__(self, produce: Callable[[], list[bytes]]) -> None:
        self._produce = produce
        self._lines: list[bytes] | None = None
        self.closed = False

    def read_all(self) -> list[bytes]:
        if self._lines is None:
            self._lines = self._produce()
        return self._lines

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.read_all())

    def __enter__(self) -> _Lines:
        return self

    def __exit__(self, *exc: object) -> None:
        self.closed = True


class DbtInProcess:
    """What `DbtCliInvocation` uses of `subprocess.Popen`, for dbt run by `dbtRunner` here.

    dbt runs when its output is first read, after dagster-dbt has logged the command, and
    in the reading thread: a run's interrupt (Dagster raises it in that thread) stops dbt.
    """

    def __init__(self, args: Sequence[str], *, env: Mapping[str, str], cwd: Path, **_: Any):
        self.args = list(args)
        self.returncode: int | None = None
        # no second copy of the events on the real stdout; the debug log file as before
        self._env = {**env, "DBT_LOG_LEVEL": "none"}
        self._env.setdefault("DBT_LOG_LEVEL_FILE", "debug")
        self._cwd = cwd
        self.stdout = _Lines(self._run)

    def _run(self) -> list[bytes]:
        from dbt.cli.main import dbtRunner
        from dbt_common.events.functions import env_scrubber, msg_to_json, reset_metadata_vars

        lines: list[bytes] = []

        def keep(event: Any) -> None:
            if event.info.level in _STDOUT_LEVELS:
                lines.append(env_scrubber(msg_to_json(event)).encode() + b"\n")

        with _one_dbt_at_a_time, environment(self._env), _working_directory(self._cwd):
            # dbt caches the DBT_ENV_CUSTOM_ENV_* variables it records in its artifacts
            reset_metadata_vars()
            spark_held = _spark_held()
            try:
                result = dbtRunner(callbacks=[keep]).invoke(self.args[1:])
            finally:
                _release_engine(spark_held=spark_held)
        if isinstance(result.exception, KeyboardInterrupt | DagsterExecutionInterruptedError):
            raise result.exception
        if result.success:
            self.returncode = _SUCCESS
        else:
            self.returncode = _FAILURE if result.exception is None else _CRASH
        return lines

    def wait(self, timeout: float | None = None) -> int:
        self.stdout.read_all()
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, signum: int) -> None:
        """Nothing to forward: the interrupt was raised in the thread running dbt."""


@contextmanager
def _dbt_in_process() -> Iterator[None]:
    spawner = dagster_dbt_invocation.subprocess
    dagster_dbt_invocation.subprocess = SimpleNamespace(  # type: ignore[assignment]
        Popen=DbtInProcess, PIPE=subprocess.PIPE, STDOUT=subprocess.STDOUT
    )
    try:
        yield
    finally:
        dagster_dbt_invocation.subprocess = spawner


def dbt_runner() -> AbstractContextManager[None]:
    """dagster-dbt's invocations started in this block run dbt in this process, unless
    `ORDERS_DBT_IN_PROCESS=false` asks for stock dagster-dbt (a subprocess each)."""
    return _dbt_in_process() if settings.dbt_in_process() else nullcontext()


class InProcessDbtCli(DbtCliResource):
    """`DbtCliResource` without its `dbt --version` subprocess and its second adapter, while
    dbt runs in process (stock dagster-dbt otherwise)."""

    @cached_property
    def _cli_version(self) -> Version:
        if not settings.dbt_in_process():
            return super()._cli_version
        return Version(installed_version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> Any:
        # Only fetch_column_metadata()/fetch_row_counts() use the adapter; nothing here does.
        if not settings.dbt_in_process():
            return super()._initialize_dbt_core_adapter(args)
        return None
