"""Asset checks: per-partition dbt test results, nothing-lost, freshness, schema changes."""
