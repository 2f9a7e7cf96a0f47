"""Asset checks defined apart from dbt: freshness, lateness coverage, schema changes.

dbt's own tests are published by the dbt step (`orders_platform.transform.dbt_results`), and
nothing-lost is evaluated by the ingestion step (`orders_platform.ingestion.nothing_lost`).
"""
