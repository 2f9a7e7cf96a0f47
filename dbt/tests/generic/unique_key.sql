{#-
    No two rows of an incremental model share `column_name`, over the whole table, at the
    cost of what the run merged: only the keys of the rows this invocation stamped can be
    duplicated (see `merged_by_this_invocation`), so only those are counted, each across the
    whole table. Nulls are not keys (as in dbt's `unique`). Each failing row is one key and
    how often it occurs.
-#}
{% test unique_key(model, column_name, merged_at='merged_at') %}

{%- set scope = merged_by_this_invocation(merged_at) %}

select
    {{ column_name }} as unique_field,
    count(*) as n_records
from {{ model }}
where
    {{ column_name }} is not null
    {%- if scope != 'true' %}
    and {{ column_name }} in (
        select {{ column_name }} from {{ model }}
        where {{ scope }}
    )
    {%- endif %}
group by {{ column_name }}
having count(*) > 1

{% endtest %}
