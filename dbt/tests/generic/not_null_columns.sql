{#-
    Neither the row's `key` nor any of `columns` is null, in any row: one scan of the table
    for every column that must be present, instead of one `not_null` test (and one Dagster
    check) per column. Each failing row names its key, its date and the columns that are
    null. A build of an incremental model looks only at the rows it merged (see
    `merged_by_this_invocation`); without `merged_at`, every row.
-#}
{% test not_null_columns(model, key, columns, merged_at=none) %}

{%- set checked = [key] + columns %}

select
    {{ key }},
    {%- if key != 'order_date' %}
    order_date,
    {%- endif %}
    {%- for column in checked %}
    {{ column }} is null as {{ column }}_is_null{{ ',' if not loop.last }}
    {%- endfor %}
from {{ model }}
where
    {%- if merged_at %}
    {{ merged_by_this_invocation(merged_at) }} and (
    {%- endif %}
    {%- for column in checked %}
    {{ column }} is null{{ ' or' if not loop.last }}
    {%- endfor %}
    {%- if merged_at %}
    )
    {%- endif %}

{% endtest %}
