{#-
    What differs between the engines the project runs on (DuckDB, Apache Spark), kept here so
    that every model is written once. Each macro dispatches on the adapter: `default__` is
    the DuckDB behaviour, `spark__` the Spark one.
-#}

{#-
    The config of a mart re-merged by order date (`unique_key` is its key on DuckDB).
    DuckDB: `delete+insert` on the key, in one transaction. Spark (plain parquet, no
    transactions, no `merge` without Delta/Iceberg): a table partitioned by `order_date`
    whose re-merge overwrites whole date partitions (`insert_overwrite`, dynamic mode), so
    the model's output must hold every row of every date it touches (`whole_dates`), and
    dates left empty are dropped afterwards (`drop_emptied_dates`).
-#}
{% macro daily_incremental_config(unique_key) %}
    {{ return(adapter.dispatch('daily_incremental_config', 'orders_platform')(unique_key)) }}
{% endmacro %}

{% macro default__daily_incremental_config(unique_key) %}
    {{ return({'unique_key': unique_key, 'incremental_strategy': 'delete+insert'}) }}
{% endmacro %}

{% macro spark__daily_incremental_config(unique_key) %}
    {{ return({
        'incremental_strategy': 'insert_overwrite',
        'partition_by': ['order_date'],
        'file_format': 'parquet',
    }) }}
{% endmacro %}


{#-
    The rows an incremental run of a one-row-per-`key` mart writes, from relation `merged`
    (the re-merged rows). DuckDB deletes the merged keys and inserts `merged`. Spark replaces
    whole date partitions, so it also writes back, unchanged, every row of `this` on a date
    the run touches (a date a merged row now has or had) whose key was not re-merged.
-#}
{% macro whole_dates(merged, key) %}
    {{ return(adapter.dispatch('whole_dates', 'orders_platform')(merged, key)) }}
{% endmacro %}

{% macro default__whole_dates(merged, key) -%}
    select * from {{ merged }}
{%- endmacro %}

{% macro spark__whole_dates(merged, key) -%}
    {%- if is_incremental() -%}
        {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
        select {{ columns | join(', ') }} from {{ merged }}

        union all

        select {{ columns | join(', ') }} from {{ this }}
        where
            order_date in (
                select merged_dates.order_date from {{ merged }} as merged_dates

                union

                select left_dates.order_date from {{ this }} as left_dates
                where left_dates.{{ key }} in (select merged_keys.{{ key }} from {{ merged }} as merged_keys)
            )
            and {{ key }} not in (select merged_keys.{{ key }} from {{ merged }} as merged_keys)
    {%- else -%}
        select * from {{ merged }}
    {%- endif -%}
{%- endmacro %}


{#-
    Post-hook of a one-row-per-`key` mart: clear the dates this run emptied. On Spark, a date
    all of whose orders moved to other dates is in no output row, so dynamic partition
    overwrite leaves its old rows in place; those rows are exactly the ones whose key this
    run (`merged_at`) re-merged onto another date. Such a date holds nothing else (its
    other rows would have been written back by `whole_dates`), so its partition is dropped.
    DuckDB's delete+insert never leaves one: nothing to do.
-#}
{% macro drop_emptied_dates(key) %}
    {{ return(adapter.dispatch('drop_emptied_dates', 'orders_platform')(key)) }}
{% endmacro %}

{% macro default__drop_emptied_dates(key) %}
    {{ return('') }}
{% endmacro %}

{% macro spark__drop_emptied_dates(key) %}
    {% if not execute %}
        {{ return('') }}
    {% endif %}
    {% set emptied = run_query(
        "select distinct stale.order_date from " ~ this ~ " as stale"
        ~ " where stale.merged_at <> " ~ merge_timestamp()
        ~ " and stale." ~ key ~ " in (select merged." ~ key ~ " from " ~ this ~ " as merged"
        ~ " where merged.merged_at = " ~ merge_timestamp() ~ ")"
    ).columns[0].values() %}
    {% if emptied | length == 0 %}
        {{ return('') }}
    {% endif %}
    {% set partitions = [] %}
    {% for day in emptied | sort %}
        {% do partitions.append("partition (order_date = '" ~ day.isoformat() ~ "')") %}
    {% endfor %}
    {{ return("alter table " ~ this ~ " drop if exists " ~ partitions | join(', ')) }}
{% endmacro %}


{#- Distinct values of `expression` joined by `delimiter`, in ascending order. Spark's
    listagg ignores an order (collect_list), so it sorts a set there. -#}
{% macro sorted_distinct_listagg(expression, delimiter) %}
    {{ return(adapter.dispatch('sorted_distinct_listagg', 'orders_platform')(expression, delimiter)) }}
{% endmacro %}

{% macro default__sorted_distinct_listagg(expression, delimiter) -%}
    {{ dbt.listagg("distinct " ~ expression, delimiter, "order by " ~ expression) }}
{%- endmacro %}

{% macro spark__sorted_distinct_listagg(expression, delimiter) -%}
    array_join(array_sort(collect_set({{ expression }})), {{ delimiter }})
{%- endmacro %}


{#- The exact continuous percentile (linear interpolation) of `expression`. -#}
{% macro percentile_cont(expression, fraction) -%}
    {{ return(adapter.dispatch('percentile_cont', 'orders_platform')(expression, fraction)) }}
{%- endmacro %}

{% macro default__percentile_cont(expression, fraction) -%}
    percentile_cont({{ fraction }}) within group (order by {{ expression }})
{%- endmacro %}

{% macro duckdb__percentile_cont(expression, fraction) -%}
    quantile_cont({{ expression }}, {{ fraction }})
{%- endmacro %}

{#- Spark's `percentile` is exact and interpolates like `quantile_cont`; `percentile_approx`
    would not match the other engines. -#}
{% macro spark__percentile_cont(expression, fraction) -%}
    percentile({{ expression }}, {{ fraction }})
{%- endmacro %}


{#- Whole seconds from `start_at` to `end_at` (naive UTC timestamps). dbt-spark's own
    `datediff` wraps each operand in null guards, so nesting it (a day end inside, a case on
    the result outside) grew the expression exponentially: seconds of planning per query on
    a few rows, and an out-of-memory driver without adaptive execution. -#}
{% macro seconds_between(start_at, end_at) -%}
    {{ return(adapter.dispatch('seconds_between', 'orders_platform')(start_at, end_at)) }}
{%- endmacro %}

{% macro default__seconds_between(start_at, end_at) -%}
    {{ dbt.datediff(start_at, end_at, 'second') }}
{%- endmacro %}

{#- Truncated epoch seconds, as dbt-spark's datediff and DuckDB's date_diff count them. -#}
{% macro spark__seconds_between(start_at, end_at) -%}
    (unix_timestamp({{ end_at }}) - unix_timestamp({{ start_at }}))
{%- endmacro %}


{#-
    The value of the row with the greatest `ordering` in a group, both given as lists of
    column names (compared left to right): one aggregation, no window. DuckDB `arg_max`,
    Spark `max_by`, each over a struct, whose fields are the value's columns.
-#}
{% macro greatest_by(columns, ordering) %}
    {{ return(adapter.dispatch('greatest_by', 'orders_platform')(columns, ordering)) }}
{% endmacro %}

{% macro default__greatest_by(columns, ordering) -%}
    arg_max(
        struct_pack({% for c in columns %}{{ c }} := {{ c }}{{ ', ' if not loop.last }}{% endfor %}),
        struct_pack({% for c in ordering %}{{ c }} := {{ c }}{{ ', ' if not loop.last }}{% endfor %})
    )
{%- endmacro %}

{% macro spark__greatest_by(columns, ordering) -%}
    max_by(
        named_struct({% for c in columns %}'{{ c }}', {{ c }}{{ ', ' if not loop.last }}{% endfor %}),
        named_struct({% for c in ordering %}'{{ c }}', {{ c }}{{ ', ' if not loop.last }}{% endfor %})
    )
{%- endmacro %}
