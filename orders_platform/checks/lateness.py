"""Does the nightly re-merge window reach as late as the data arrives?

A warning, not a block: a window that is too short leaves some late events to the targeted
re-merge (the late-data sensor), so revenue is still healed, only later and by another
path. The check names the shortfall so someone can widen the window on purpose.
"""

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    MetadataValue,
    asset_check,
)

from orders_platform.lateness import LATENESS_TABLE, read_recommendation
from orders_platform.resources.warehouse import WarehouseResource


@asset_check(
    asset=LATENESS_TABLE,
    name="remerge_window_covers_lateness",
    blocking=False,
    description=(
        "Warns when the configured re-merge window covers less than the target share "
        "(ORDERS_LATENESS_TARGET_SHARE, default 99.9 %) of events or net revenue over the "
        "trailing window, and says by how many days it falls short."
    ),
)
def remerge_window_covers_lateness(
    context: AssetCheckExecutionContext, warehouse: WarehouseResource
) -> AssetCheckResult:
    with warehouse.read() as conn:
        recommendation = read_recommendation(conn)
    if recommendation is None:
        return AssetCheckResult(passed=True, metadata={"status": "no order days yet"})
    covers = recommendation.remerge_window_covers_target
    shortfall = recommendation.recommended_lookback_days - recommendation.remerge_window_days
    summary = recommendation.summary()
    if not covers:
        context.log.warning(summary)
    return AssetCheckResult(
        passed=covers,
        severity=AssetCheckSeverity.WARN,
        description=summary.splitlines()[-1],
        metadata={
            "summary": MetadataValue.md(summary.replace("\n", "\n\n")),
            "recommended_lookback_days": recommendation.recommended_lookback_days,
            "remerge_window_days": recommendation.remerge_window_days,
            "shortfall_days": max(shortfall, 0),
            "remerge_window_events_share": recommendation.remerge_window_events_share,
            "remerge_window_net_revenue_share": recommendation.remerge_window_net_revenue_share,
            "target_share": recommendation.target_share,
        },
    )
