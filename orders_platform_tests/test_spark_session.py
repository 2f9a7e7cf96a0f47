"""The engine settings, and the Spark session every Spark writer of the platform starts from.

The session test starts a real JVM (marker `spark`, run by `make test-spark`).
"""

from pathlib import Path

import pytest

from orders_platform import settings
from orders_platform.resources.spark import metastore_dir, spark_conf, spark_session


def test_the_engine_defaults_to_duckdb_and_refuses_unknown_names(monkeypatch):
    monkeypatch.delenv("ORDERS_ENGINE", raising=False)
    assert settings.engine() == "duckdb"
    monkeypatch.setenv("ORDERS_ENGINE", "spark")
    assert settings.engine() == "spark"
    monkeypatch.setenv("ORDERS_ENGINE", "Spark")
    with pytest.raises(ValueError, match="ORDERS_ENGINE='Spark'"):
        settings.engine()


def test_spark_settings_are_read_when_called_and_paths_resolve_from_the_repository(monkeypatch):
    monkeypatch.delenv("ORDERS_SPARK_MASTER", raising=False)
    monkeypatch.delenv("ORDERS_SPARK_WAREHOUSE", raising=False)
    assert settings.spark_master() == "local[2]"
    assert settings.spark_warehouse() == settings.REPO_ROOT / "data" / "spark-warehouse"
    monkeypatch.setenv("ORDERS_SPARK_MASTER", "spark://127.0.0.1:7077")
    monkeypatch.setenv("ORDERS_SPARK_WAREHOUSE", "elsewhere/wh")
    assert settings.spark_master() == "spark://127.0.0.1:7077"
    assert settings.spark_warehouse() == settings.REPO_ROOT / "elsewhere" / "wh"


def test_the_metastore_lives_under_the_warehouse(tmp_path):
    conf = spark_conf("local[2]", tmp_path / "wh")
    assert conf["spark.sql.warehouse.dir"] == str(tmp_path / "wh")
    metastore_url = conf["spark.hadoop.javax.jdo.option.ConnectionURL"]
    assert f"databaseName={metastore_dir(tmp_path / 'wh')};" in metastore_url
    assert f"-Dderby.system.home={tmp_path / 'wh'}" in conf["spark.driver.extraJavaOptions"]


def test_spark_writes_no_progress_bar_into_dbt_s_event_stream(tmp_path):
    # a bar has no newline: it joined the next JSON event line, which dagster-dbt then dropped
    assert spark_conf("local[2]", tmp_path / "wh")["spark.ui.showConsoleProgress"] == "false"


@pytest.mark.spark
def test_a_session_runs_local_on_loopback_in_utc_and_writes_only_under_its_warehouse(
    tmp_path, monkeypatch
):
    from pyspark import SparkContext

    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    warehouse = tmp_path / "wh"
    with spark_session("local[2]", warehouse) as spark:
        jvm_process = SparkContext._gateway.proc
        assert spark.sparkContext.master == "local[2]"
        assert spark.conf.get("spark.driver.bindAddress") == "127.0.0.1"
        assert spark.conf.get("spark.driver.host") == "127.0.0.1"
        assert spark.sql("select current_timezone()").first()[0] == "UTC"
        # an offset is honoured and the value is shown in UTC, whatever the machine's zone
        shown = spark.sql(
            "select cast(cast('2026-03-01T11:02:30+01:00' as timestamp) as string)"
        ).first()[0]
        assert shown == "2026-03-01 10:02:30"
        spark.sql("create table main.probe using parquet as select 1 as id")
        assert spark.table("main.probe").count() == 1
    assert jvm_process.poll() is not None, "the JVM (and its Derby lock) outlived the session"
    assert SparkContext._gateway is None
    assert list(cwd.iterdir()) == []
    assert (warehouse / "metastore_db").is_dir()
    assert list((warehouse / "main.db" / "probe").glob("*.parquet"))
    assert (warehouse / "derby.log").exists()
    assert not Path(cwd / "spark-warehouse").exists()
