{#-
    A per-run setting: dbt var `var_name` when given (a plain `dbt build --vars ...`), else
    environment variable `DBT_ENV_CUSTOM_ENV_<env_name>`, which is how Dagster passes it.
    Why not vars from Dagster: dbt re-parses the whole project whenever `--vars` differ from
    the previous invocation, and a window and a run id differ on every run. The environment
    is read only while executing (`execute`), never while parsing, so it is no parse input
    and partial parsing survives. The prefix makes dbt record the values in its artifacts
    (`metadata.env` of run_results.json), so every run says which window it merged.
-#}
{% macro run_setting(var_name, env_name) %}
    {% set value = var(var_name, none) %}
    {% if value is none and execute %}
        {% set value = env_var('DBT_ENV_CUSTOM_ENV_' ~ env_name, '') or none %}
    {% endif %}
    {{ return(value) }}
{% endmacro %}


{#-
    The partition window a run re-merges, from `orders_window_start` and `orders_window_end`
    (ISO dates, end exclusive; see `run_setting`), or none for the processing-time lookback
    of a plain `dbt build`. The values are validated as real dates before they reach SQL.
-#}
{% macro orders_window() %}
    {% set start = run_setting('orders_window_start', 'ORDERS_WINDOW_START') %}
    {% set end = run_setting('orders_window_end', 'ORDERS_WINDOW_END') %}
    {% if start is none and end is none %}
        {{ return(none) }}
    {% endif %}
    {% if start is none or end is none %}
        {{ exceptions.raise_compiler_error(
            "Set both orders_window_start and orders_window_end, or neither.") }}
    {% endif %}
    {% set bounds = [] %}
    {% for value in [start, end] %}
        {% if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', value | string) %}
            {{ exceptions.raise_compiler_error(
                "Window bound " ~ (value | string | tojson) ~ " is not an ISO date YYYY-MM-DD.") }}
        {% endif %}
        {% do bounds.append(modules.datetime.date.fromisoformat(value | string)) %}
    {% endfor %}
    {% if bounds[0] >= bounds[1] %}
        {{ exceptions.raise_compiler_error(
            "orders_window_start must be before orders_window_end (end is exclusive).") }}
    {% endif %}
    {{ return({'start': bounds[0].isoformat(), 'end': bounds[1].isoformat()}) }}
{% endmacro %}


{#- A SQL date literal for an already validated ISO date. -#}
{% macro date_literal(iso_date) -%}
    cast('{{ iso_date }}' as date)
{%- endmacro %}


{#- This invocation's start time as a naive UTC timestamp, stamped on every merged row. -#}
{% macro merge_timestamp() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}


{#-
    Who is merging: the Dagster run id when Dagster runs dbt (`orders_run_id`, see
    `run_setting`), else this dbt invocation. Validated before it reaches SQL.
-#}
{% macro merging_run() -%}
    {%- set run = run_setting('orders_run_id', 'ORDERS_RUN_ID') or invocation_id -%}
    {%- if not modules.re.fullmatch('[A-Za-z0-9_-]+', run | string) -%}
        {{ exceptions.raise_compiler_error("orders_run_id must be an id, got " ~ (run | string | tojson)) }}
    {%- endif -%}
    '{{ run }}'
{%- endmacro %}


{#- `column` (a date) falls in the window. -#}
{% macro date_in_window(column, window) -%}
    {{ column }} >= {{ date_literal(window.start) }} and {{ column }} < {{ date_literal(window.end) }}
{%- endmacro %}


{#- `column` (a naive UTC timestamp) falls on one of the window's days. -#}
{% macro timestamp_in_window(column, window) -%}
    {{ column }} >= cast({{ date_literal(window.start) }} as {{ dbt.type_timestamp() }})
    and {{ column }} < cast({{ date_literal(window.end) }} as {{ dbt.type_timestamp() }})
{%- endmacro %}


{#-
    The orders a run of an incremental model keyed by order re-merges, as a select of
    `order_id`: with a partition `window`, every order with a snapshot placed in it or a row
    of `merged` (the model's own table) dated in it; without one (plain `dbt build`), every
    order with a snapshot that arrived within `orders_lookback_days` of `merged_through`
    (an expression over `merged`: the newest arrival it already holds).
-#}
{% macro orders_touched(snapshots, merged, window, merged_through) -%}
    {% if window %}
        select order_id from {{ snapshots }}
        where {{ timestamp_in_window('order_placed_at', window) }}

        -- read by `in`, which ignores repeats: no de-duplication of its own
        union all

        select order_id from {{ merged }}
        where {{ date_in_window('order_date', window) }}
    {% else %}
        -- legacy rows without an arrival time count as on time
        select distinct order_id from {{ snapshots }}
        where {{ arrived_at('event_ingested_at', 'event_time') }} >= (
            select
                {{ dbt.dateadd(
                    'day',
                    -1 * var('orders_lookback_days'),
                    "coalesce(max(" ~ merged_through ~ "), "
                    ~ "cast('1900-01-01' as " ~ dbt.type_timestamp() ~ "))"
                ) }}
            from {{ merged }}
        )
    {% endif %}
{%- endmacro %}


{#-
    Every snapshot (from relation `snapshots`) of the orders an incremental run of a model
    keyed by order re-merges (`orders_touched`), or every snapshot on a first build.
    `snapshots` must be a relation (`ref('stg_orders')`), not the name of a CTE: it is read
    twice, and DuckDB materializes a CTE that is read twice (here every landed event) rather
    than pushing the window's filters into each read of the landing table.
-#}
{% macro touched_snapshots(snapshots, window, merged_through) -%}
    select * from {{ snapshots }}
    {% if is_incremental() %}
        where order_id in (
            {{ orders_touched(snapshots, this, window, merged_through) }}
        )
    {% endif %}
{%- endmacro %}


{#-
    The rows a proof must look at: in a `dbt build`, the rows this invocation merged into the
    model (stamped `merged_at`); in a checks-only `dbt test`, every row. A build changes a
    table only by deleting rows and inserting the rows it stamps, so a property of every row
    (not null, a unique key) that held before it holds after it exactly when it holds for
    the stamped rows, checked against the whole table: the proof costs what the run merged,
    not the table's history. A first build stamps every row; `dbt test` (orders_checks_job)
    re-proves the whole table.
-#}
{% macro merged_by_this_invocation(merged_at='merged_at') -%}
    {%- if flags.WHICH == 'build' -%}
        {{ merged_at }} = {{ merge_timestamp() }}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}


{#-
    The same for the landing side: in a `dbt build` that Dagster runs, the events its run
    loaded (the run id is their `load_id`: ingestion and the staging refresh are one run);
    in a checks-only `dbt test`, or a `dbt build` outside Dagster, every event.
-#}
{% macro landed_by_this_run(load_id='load_id') -%}
    {%- if flags.WHICH == 'build' and run_setting('orders_run_id', 'ORDERS_RUN_ID') -%}
        {{ load_id }} = {{ merging_run() }}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}


{#- The rows a proof looks at, by what wrote them: 'merge' or 'load' (see above). -#}
{% macro written_by_this_run(written_by) -%}
    {%- if written_by == 'merge' -%}
        {{ merged_by_this_invocation() }}
    {%- elif written_by == 'load' -%}
        {{ landed_by_this_run() }}
    {%- else -%}
        {{ exceptions.raise_compiler_error("written_by must be 'merge' or 'load', got " ~ written_by) }}
    {%- endif -%}
{%- endmacro %}


{#-
    dbt's `where` test config, with two placeholders: `where: __merged_by_this_run__` limits
    a row-level test (not null, accepted values) of an incremental model to the rows a build
    merged, `where: __loaded_by_this_run__` one of the staging view to the events its run
    loaded (see `written_by_this_run`). Any other `where` is dbt's own.
-#}
{% macro default__get_where_subquery(relation) -%}
    {% set where = config.get('where', '') %}
    {% if where in ('__merged_by_this_run__', '__loaded_by_this_run__') %}
        {% set where = written_by_this_run('merge' if where == '__merged_by_this_run__' else 'load') %}
    {% endif %}
    {% if where %}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {% do return(filtered) %}
    {%- else -%}
        {% do return(relation) %}
    {%- endif -%}
{%- endmacro %}
