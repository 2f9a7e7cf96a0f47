"""How dbt nodes become Dagster assets: keyed by bare name, grouped by folder.

Sources map to the asset that writes them (`orders_landing` is the ingestion asset), so the
graph connects without any per-model rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagster import AssetKey
from dagster_dbt import DagsterDbtTranslator


class OrdersDbtTranslator(DagsterDbtTranslator):
    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        return AssetKey(dbt_resource_props["name"])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "source":
            return None
        # models/<folder>/...: staging, marts
        return dbt_resource_props["fqn"][1]
