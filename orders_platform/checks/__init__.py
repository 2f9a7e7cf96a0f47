"""Asset checks: per-partition dbt test results, freshness, lateness coverage, schema changes."""
