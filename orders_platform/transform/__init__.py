"""dbt models as Dagster assets (the daily-partitioned marts and the unpartitioned rest), and
how a finished dbt invocation's events become theirs."""
