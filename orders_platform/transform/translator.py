"""How dbt nodes become Dagster assets: keyed by bare name, grouped by folder.

Sources map to the asset that writes them (`orders_landing` is the ingestion asset), so the
graph connects without any per-model rule. Every mart (folder `marts`, all daily-partitioned)
also depends on `landed_order_days`, partition by partition, and re-merges itself when that
changes: that is how late data marks exactly the affected days stale and heals them. The
lateness reports (folder `lateness`) and the order history (folder `history`) follow the
marts they read (`after_the_marts`): requested once the marts are updated, in runs of their
own, so a re-merge never waits for them.

What the UI shows of the dbt project comes from it too: each asset's owner is the dbt
`meta.owner` of its model (set for the whole project in dbt_project.yml), its code reference
is the model's SQL file (`enable_code_references`: a local path, as no repository URL is
known here), and its definition's column schema carries the column descriptions of the
model's YAML (dagster-dbt's default metadata; each materialization repeats them beside the
table's actual types, `transform.dbt_results`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dagster import AssetCheckSpec, AssetDep, AssetKey, AssetSelection, AssetSpec
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtProject

from orders_platform.ingestion.landed_days import LANDED_ORDER_DAYS
from orders_platform.partitions import daily_partitions
from orders_platform.transform.automation import EAGER_FOR_EVERY_PARTITION, after_the_marts
from orders_platform.transform.groups import DAILY_GROUPS, FOLLOWER_GROUPS, MARTS

AFTER_THE_MARTS = after_the_marts(AssetSelection.groups(*FOLLOWER_GROUPS))


class OrdersDbtTranslator(DagsterDbtTranslator):
    def __init__(self, settings: DagsterDbtTranslatorSettings | None = None) -> None:
        super().__init__(settings or DagsterDbtTranslatorSettings(enable_code_references=True))

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> Sequence[str] | None:
        """dbt's `meta.owner` (one owner or a list), else dagster-dbt's own rules
        (`meta.dagster.owners`, the dbt group's owner)."""
        owner = dbt_resource_props.get("meta", {}).get("owner")
        if not owner:
            return super().get_owners(dbt_resource_props)
        return [owner] if isinstance(owner, str) else list(owner)

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        return AssetKey(dbt_resource_props["name"])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "source":
            return None
        # models/<folder>/...: staging, marts, lateness, history
        return dbt_resource_props["fqn"][1]

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        if spec.group_name in FOLLOWER_GROUPS:
            return spec.replace_attributes(automation_condition=AFTER_THE_MARTS)
        if spec.group_name != MARTS:
            return spec
        return spec.replace_attributes(
            deps=[*spec.deps, AssetDep(LANDED_ORDER_DAYS)],
            automation_condition=EAGER_FOR_EVERY_PARTITION,
        )

    def get_asset_check_spec(
        self,
        asset_spec: AssetSpec,
        manifest: Mapping[str, Any],
        unique_id: str,
        project: DbtProject | None,
    ) -> AssetCheckSpec | None:
        """A dbt test of a daily model is a daily check: the UI then shows each day's result
        on the partition view. A run still runs each test once for its whole window; the
        result is published per day (`transform.dbt_results`)."""
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None or asset_spec.group_name not in DAILY_GROUPS:
            return spec
        return spec._replace(partitions_def=daily_partitions)
