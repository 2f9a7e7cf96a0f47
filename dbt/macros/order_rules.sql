{#-
    The two business rules every model that rebuilds an order or a total must share, so
    fct_orders, revenue_daily and the lateness models can never disagree about them.
    (The reconciliation test and orders_platform/reconciliation.py restate them on purpose:
    they are the independent recomputation the marts are checked against.)
-#}

{#- Which snapshot of an order wins: the latest business time; an exact tie goes to the
    greatest event_id, so the result never depends on arrival order. `alias` qualifies the
    columns when the query joins. -#}
{% macro latest_snapshot_first(alias=none) -%}
    {%- set prefix = alias ~ '.' if alias else '' -%}
    {{ prefix }}event_time desc, {{ prefix }}event_id desc
{%- endmacro %}


{#- Net revenue of one order state: its amount unless cancelled or refunded. -#}
{% macro net_amount(status, amount) -%}
    case when {{ status }} not in ('cancelled', 'refunded') then {{ amount }} else 0 end
{%- endmacro %}
