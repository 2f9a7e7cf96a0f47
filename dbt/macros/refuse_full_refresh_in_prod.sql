{#-
    Production tables hold history that cannot be rebuilt from a bounded landing window, so a
    full refresh there is refused before any model runs (this is an on-run-start hook). Re-merge
    a date range instead: it is idempotent and touches only the orders of that range.
-#}
{% macro refuse_full_refresh_in_prod() %}
    {% if flags.FULL_REFRESH and target.name == 'prod' %}
        {{ exceptions.raise_compiler_error(
            "Refusing --full-refresh on target 'prod': production tables are never rebuilt. "
            ~ "Re-merge the affected days instead (a Dagster partition backfill, or "
            ~ "dbt build --vars '{orders_window_start: YYYY-MM-DD, orders_window_end: YYYY-MM-DD}')."
        ) }}
    {% endif %}
{% endmacro %}
