"""The Spark session the platform uses when `ORDERS_ENGINE=spark`, configured in one place.

`spark_conf` is the only place Spark settings live: ingestion builds its session from it, and
dbt's `spark` target (`dbt/profiles.yml`) carries the same values (a test compares them), so
the two engines' writers can never disagree on time zone, warehouse or metastore.

Why these settings, on a small shared machine:
- UTC session time zone: timestamps are naive UTC on both engines; Spark must not shift
  them by the machine's zone when it parses offsets or writes parquet.
- 127.0.0.1 for the driver: by default Spark binds to the machine's external address.
- Warehouse and Derby metastore under `ORDERS_SPARK_WAREHOUSE`, never in the working
  directory (Derby writes `metastore_db/` and `derby.log` into the cwd by default).
- Parquet timestamps as TIMESTAMP_MICROS (not the legacy INT96), so any parquet reader,
  DuckDB included, reads them.
- Dynamic partition overwrite: `insert overwrite` replaces only the partitions written.
- No console progress bar. pyspark starts its JVM as a shell (`pyspark-shell`), for which
  Spark turns the bar on unless it is set: it writes `[Stage n:> (0 + 2) / 2]` and carriage
  returns, never a newline, to the JVM's stderr. Under dbt that is dbt's stdout, which
  dagster-dbt reads one JSON event per line: the bar glued itself in front of the next event
  (a model's result, printed just after its Spark jobs), which no longer parsed, so the
  model's materialization was silently dropped (revenue_daily's, in a 14-day re-merge).

The embedded Derby metastore admits one JVM at a time, so a session is a context manager
that, when it started the session, on exit stops it AND ends its JVM: `SparkSession.stop()`
alone leaves pyspark's JVM running with Derby still booted (holding the metastore lock) and
keeps its JVM options (derby.system.home) for any later session in the process. A Dagster
run's ingestion step ends the session it started before dbt's build starts its own, unless
something holds one open around both (then both use it); readers never start Spark at all
(`orders_platform.resources.warehouse.read_warehouse` reads the parquet files directly).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from orders_platform import settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# The Spark database (schema) holding the platform's tables, as `main` does on DuckDB.
SPARK_DATABASE = "main"
LOOPBACK = "127.0.0.1"
SHUFFLE_PARTITIONS = 4


# The settings `spark_session` started the running session with (Spark rewrites some of them
# in its own conf, e.g. the warehouse as a file: URI); empty when it started none.
_started_with: dict[str, str] = {}


def metastore_dir(warehouse: Path) -> Path:
    """The Derby metastore database directory inside the warehouse directory."""
    return warehouse / "metastore_db"


def spark_conf(master: str, warehouse: Path | str) -> dict[str, str]:
    """Every Spark setting of the platform, for a session or dbt's `server_side_parameters`."""
    warehouse = Path(warehouse)
    return {
        "spark.master": master,
        "spark.app.name": "orders_platform",
        "spark.sql.catalogImplementation": "hive",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": str(SHUFFLE_PARTITIONS),
        "spark.driver.host": LOOPBACK,
        "spark.driver.bindAddress": LOOPBACK,
        "spark.ui.enabled": "false",
        "spark.sql.warehouse.dir": str(warehouse),
        "spark.hadoop.javax.jdo.option.ConnectionURL": (
            f"jdbc:derby:;databaseName={metastore_dir(warehouse)};create=true"
        ),
        "spark.driver.extraJavaOptions": (f"-Dderby.system.home={warehouse} -Duser.timezone=UTC"),
        "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
        "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
        "spark.sql.sources.partitionOverwriteMode": "dynamic",
        "spark.ui.showConsoleProgress": "false",
    }


@contextmanager
def spark_session(
    master: str | None = None, warehouse: Path | None = None
) -> Iterator[SparkSession]:
    """A Hive-enabled session on `master` (default `ORDERS_SPARK_MASTER`) and `warehouse`.

    When this process already runs a session with exactly these settings (someone holds it
    open around several steps, as the Spark tests do around a module), that session is used
    and left running; otherwise one is started and ended, JVM included, on exit: whoever
    starts the session ends it.

    pyspark is imported here, not at module level, so the DuckDB installation (without the
    `spark` extra) can import every module of the code location.
    """
    from pyspark.sql import SparkSession

    master = master or settings.spark_master()
    warehouse = warehouse or settings.spark_warehouse()
    warehouse.mkdir(parents=True, exist_ok=True)
    conf = spark_conf(master, warehouse)
    if holds_session(conf):
        spark = SparkSession.builder.getOrCreate()
        spark.sql(f"create database if not exists {SPARK_DATABASE}")
        yield spark
        return
    os.environ["SPARK_LOCAL_IP"] = LOOPBACK
    builder = SparkSession.builder
    for key, value in conf.items():
        builder = builder.config(key, value)
    spark = builder.enableHiveSupport().getOrCreate()
    _started_with.update(conf)
    try:
        spark.sql(f"create database if not exists {SPARK_DATABASE}")
        yield spark
    finally:
        end_spark()


def holds_session(conf: dict[str, str]) -> bool:
    """Whether this process runs a session that `spark_session` started with `conf`.

    Any other running session is ended first: its static settings (master, warehouse,
    metastore) cannot change, and a caller asking for a session (dbt's Spark adapter among
    them) would otherwise be handed it as it is.
    """
    if "pyspark" not in sys.modules:
        return False
    from pyspark import SparkContext

    if SparkContext._active_spark_context is None:
        return False
    if _started_with == conf:
        return True
    end_spark()
    return False


def end_spark() -> None:
    """Stop this process's Spark session, if any, and end its JVM (see the module doc)."""
    from pyspark import SparkContext

    active = SparkContext._active_spark_context
    if active is not None:
        active.stop()
    _started_with.clear()
    _end_jvm()


def _end_jvm() -> None:
    """End pyspark's JVM, so the next session starts a fresh one with its own options.

    pyspark keeps the gateway to its JVM in class attributes and only launches a new one when
    they are unset; the JVM exits when its stdin closes (PythonGatewayServer reads it to EOF).
    """
    from pyspark import SparkContext

    gateway = SparkContext._gateway
    if gateway is None:
        return
    process = getattr(gateway, "proc", None)
    gateway.shutdown()
    SparkContext._gateway = None
    SparkContext._jvm = None
    if process is not None:
        process.stdin.close()
        process.wait(timeout=60)
