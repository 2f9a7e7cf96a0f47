{#-
    The versions of an order history that are current (no successor yet) are exactly the
    rows of fct_orders: the same orders, each with the same winning snapshot and date.
    Checked over the run's partition window (or the whole table without one); each failing
    row is one order, dated, so Dagster fails the partitions it concerns.
-#}
{% test matches_current_orders(model) %}

{%- set window = orders_window() %}

with current_versions as (

    select order_id, event_id, order_date from {{ model }}
    where
        is_current
        {% if window %} and {{ date_in_window('order_date', window) }} {% endif %}

),

merged_orders as (

    select order_id, latest_event_id as event_id, order_date from {{ ref('fct_orders') }}
    {% if window %} where {{ date_in_window('order_date', window) }} {% endif %}

),

only_in_history as (

    select * from current_versions
    except
    select * from merged_orders

),

only_in_fct_orders as (

    select * from merged_orders
    except
    select * from current_versions

),

final as (

    select 'order_history' as found_only_in, * from only_in_history

    union all

    select 'fct_orders' as found_only_in, * from only_in_fct_orders

)

select * from final

{% endtest %}
