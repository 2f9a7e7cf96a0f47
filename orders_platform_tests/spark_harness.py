"""The test platform on Apache Spark: the same `Platform`, with Spark ingestion and readers.

Everything real, as on DuckDB: Spark's own JSON reader lands the files, a real dbt
subprocess builds on a Spark `local[2]` session, Dagster executes the jobs. Queries read the
Spark tables the way the platform's checks and sensors do (`read_warehouse`: DuckDB views
over the parquet files), so no test ever holds the Derby metastore while dbt needs it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance

from orders_platform.ingestion.landed_days import record_day_versions
from orders_platform.ingestion.load_steps import LoadReport
from orders_platform.ingestion.spark_loader import load_new_files_spark
from orders_platform.resources.spark import spark_session
from orders_platform.resources.warehouse import read_warehouse
from orders_platform_tests.fixtures.late_events import LandingFile, write_files
from orders_platform_tests.harness import Platform


@dataclass
class SparkPlatform(Platform):
    @property
    def spark_warehouse(self) -> Path:
        return self.root / "spark-warehouse"

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with read_warehouse() as conn:
            yield conn

    def land(self, files: list[LandingFile]) -> list[LoadReport]:
        """Load each file at its own arrival time in ONE Spark session (a JVM start costs
        most of a minute here), then record the touched days as the ingestion asset does.
        Inside `spark_platform_at` that session is the held one, which dbt then uses."""
        reports = []
        with spark_session() as spark:
            for landing_file in files:
                write_files([landing_file], self.landing)
                reports.append(
                    load_new_files_spark(spark, self.landing, ingested_at=landing_file.arrived_at)
                )
        versions = dict(self.rows("select order_date, version from orders_landing_days"))
        for report in reports:
            record_day_versions(self.instance, versions, report.touched_days)
        return reports


@contextmanager
def spark_platform_at(root: Path, master: str = "local[2]") -> Iterator[SparkPlatform]:
    """Point the platform at a Spark warehouse under `root` for the block, and hold one Spark
    session open for it: every landing, ingestion step and dbt build in the block runs in it
    (`spark_session`) instead of starting and ending a JVM of its own, most of a minute
    each. Readers need no Spark, so nothing else waits for the metastore."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ORDERS_ENGINE", "spark")
        mp.setenv("ORDERS_SPARK_MASTER", master)
        mp.setenv("ORDERS_SPARK_WAREHOUSE", str(root / "spark-warehouse"))
        mp.setenv("ORDERS_WAREHOUSE", str(root / "unused.duckdb"))
        mp.setenv("ORDERS_LANDING_DIR", str(root / "landing"))
        mp.setenv("ORDERS_DBT_TARGET", "dev")
        mp.setenv("DO_NOT_TRACK", "1")
        with DagsterInstance.ephemeral() as instance, spark_session():
            yield SparkPlatform(root=root, instance=instance)
