{#-
    No two rows share `column_name`, over the whole table, at the cost of what the run wrote:
    only the keys of the rows this run merged (`written_by: merge`, an incremental model) or
    loaded (`written_by: load`, the staging view over the landing table) can be duplicated
    (see `written_by_this_run`), so only those are counted, each across the whole table. A
    checks-only run counts every key. Nulls are not keys (as in dbt's `unique`). Each failing
    row is one key and how often it occurs.
-#}
{% test unique_key(model, column_name, written_by='merge') %}

{%- set scope = written_by_this_run(written_by) %}

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
