"""dbt models as Dagster assets: the daily-partitioned marts and the unpartitioned rest."""
