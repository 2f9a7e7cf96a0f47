"""The dbt folders the platform's assets are grouped by, named once.

The translator groups each model by its folder under `dbt/models/`; the automation
conditions and the late-data sensor select assets by these names.
"""

from dagster import AssetSelection

STAGING = "staging"
MARTS = "marts"
LATENESS = "lateness"
HISTORY = "history"
# Folders built after the marts, in runs of their own, whenever the marts change.
FOLLOWER_GROUPS = frozenset({LATENESS, HISTORY})
# Folders whose models are daily-partitioned assets; their dbt tests are per-day checks.
DAILY_GROUPS = frozenset({MARTS, *FOLLOWER_GROUPS})


def daily_assets() -> AssetSelection:
    """Every daily-partitioned dbt asset: the marts and the reports that follow them."""
    return AssetSelection.groups(*sorted(DAILY_GROUPS))
