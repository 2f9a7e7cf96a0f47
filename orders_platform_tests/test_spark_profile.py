"""dbt's `spark` target and the rule that picks it, rendered by dbt's own profile renderer.

No JVM is started: these run in `make test`, so the profile cannot drift from
`spark_conf` (the settings ingestion's Spark session uses) without failing the main suite.
"""

import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from dbt.config.renderer import ProfileRenderer
from dbt_common.context import set_invocation_context

from orders_platform.resources.spark import spark_conf
from orders_platform.settings import DBT_PROJECT_DIR
from orders_platform.transform.dbt_args import dbt_engine_env, dbt_target

# dbt-spark adds this to every session itself (dbt-adapters' SparkCredentials).
DBT_SPARK_FORCED = {"spark.sql.ansi.enabled"}


def _profile() -> dict[str, Any]:
    raw = yaml.safe_load((DBT_PROJECT_DIR / "profiles.yml").read_text())
    return raw["orders_platform"]


def _render(value: Any) -> Any:
    """Render as dbt does at start-up, reading the environment as it is now."""
    set_invocation_context(dict(os.environ))
    return ProfileRenderer({}).render_data(value)


def test_the_spark_target_carries_exactly_the_platform_spark_settings(monkeypatch, tmp_path):
    warehouse = tmp_path / "spark-warehouse"
    monkeypatch.setenv("ORDERS_SPARK_MASTER", "spark://127.0.0.1:7077")
    monkeypatch.setenv("ORDERS_SPARK_WAREHOUSE", str(warehouse))
    target = _render(_profile()["outputs"]["spark"])
    assert target["type"] == "spark"
    assert target["method"] == "session"
    assert target["schema"] == "main"
    assert {str(k): str(v) for k, v in target["server_side_parameters"].items()} == spark_conf(
        "spark://127.0.0.1:7077", warehouse
    )
    assert not DBT_SPARK_FORCED & set(target["server_side_parameters"])


def test_the_spark_target_defaults_match_the_settings_defaults(monkeypatch):
    monkeypatch.delenv("ORDERS_SPARK_MASTER", raising=False)
    monkeypatch.delenv("ORDERS_SPARK_WAREHOUSE", raising=False)
    parameters = _render(_profile()["outputs"]["spark"])["server_side_parameters"]
    # dbt runs inside dbt/, so the repository-relative default is reached through ../
    assert parameters == spark_conf("local[2]", Path("../data/spark-warehouse"))


@pytest.mark.parametrize(
    ("engine", "configured", "expected"),
    [("duckdb", "dev", "dev"), ("duckdb", "prod", "prod"), ("spark", "dev", "spark")],
)
def test_plain_dbt_and_dagster_pick_the_same_target(monkeypatch, engine, configured, expected):
    monkeypatch.setenv("ORDERS_ENGINE", engine)
    monkeypatch.setenv("ORDERS_DBT_TARGET", configured)
    assert _render(_profile()["target"]) == expected
    assert dbt_target(engine, configured) == expected


def test_dagster_passes_spark_an_absolute_warehouse_and_loopback_only_on_spark():
    assert dbt_engine_env("duckdb", spark_master="local[2]", spark_warehouse="/w") == {
        "ORDERS_ENGINE": "duckdb"
    }
    assert dbt_engine_env("spark", spark_master="local[2]", spark_warehouse="/w") == {
        "ORDERS_ENGINE": "spark",
        "ORDERS_SPARK_MASTER": "local[2]",
        "ORDERS_SPARK_WAREHOUSE": "/w",
        "SPARK_LOCAL_IP": "127.0.0.1",
    }
