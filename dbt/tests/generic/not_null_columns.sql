{#-
    Neither the row's `key` nor any of `columns` is null, in any row: one scan of the table
    for every column that must be present, instead of one `not_null` test (and one Dagster
    check per partition) per column. Each failing row names its key, its date and the
    columns that are null, so Dagster fails the partitions it concerns.
-#}
{% test not_null_columns(model, key, columns) %}

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
    {%- for column in checked %}
    {{ column }} is null{{ ' or' if not loop.last }}
    {%- endfor %}

{% endtest %}
