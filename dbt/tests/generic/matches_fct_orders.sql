{#-
    A daily rollup holds, for each checked day, exactly the totals of that day's orders in
    fct_orders: the number of orders, the net revenue, the cancelled orders and the refunded
    amount, to the cent. fct_orders is itself reconciled with orders_landing for the same
    days before the rollup is built (`reconciles_with_landing`, which blocks it), so the
    rollup is proven against the landing table through it, at the cost of one independent
    recomputation rather than two.

    Days checked: the run's partition window, or without a window, the days of orders merged
    by this invocation (and the days they left). Each failing row is one order date, so
    Dagster records the outcome per partition.
-#}
{% test matches_fct_orders(model) %}

{%- set window = orders_window() %}
{#- read where used, not through a CTE read three times (see `touched_snapshots`) -#}
{%- set fct_orders = ref('fct_orders') %}

with checked_days as (

    {% if window %}
        select order_date from {{ fct_orders }}
        where {{ date_in_window('order_date', window) }}

        union

        select order_date from {{ model }}
        where {{ date_in_window('order_date', window) }}
    {% else %}
        select order_date from {{ fct_orders }}
        where merged_at = {{ merge_timestamp() }}

        union

        select previous_order_date as order_date from {{ fct_orders }}
        where merged_at = {{ merge_timestamp() }} and previous_order_date is not null
    {% endif %}

),

expected as (

    select
        order_date,
        count(*) as orders,
        sum(case when status not in ('cancelled', 'refunded') then amount else 0 end)
            as net_revenue,
        sum(case when status = 'cancelled' then 1 else 0 end) as cancelled_orders,
        sum(case when status = 'refunded' then amount else 0 end) as refunded_amount
    from {{ fct_orders }}
    where order_date in (select order_date from checked_days)
    group by order_date

),

actual as (

    select order_date, orders, net_revenue, cancelled_orders, refunded_amount
    from {{ model }}
    where order_date in (select order_date from checked_days)

),

compared as (

    select
        checked_days.order_date,
        coalesce(expected.orders, 0) as expected_orders,
        coalesce(actual.orders, 0) as actual_orders,
        coalesce(actual.orders, 0) - coalesce(expected.orders, 0) as orders_difference,
        coalesce(expected.net_revenue, 0) as expected_net_revenue,
        coalesce(actual.net_revenue, 0) as actual_net_revenue,
        coalesce(actual.net_revenue, 0) - coalesce(expected.net_revenue, 0)
            as net_revenue_difference,
        coalesce(actual.cancelled_orders, 0) - coalesce(expected.cancelled_orders, 0)
            as cancelled_orders_difference,
        coalesce(actual.refunded_amount, 0) - coalesce(expected.refunded_amount, 0)
            as refunded_amount_difference
    from checked_days
    left join expected on checked_days.order_date = expected.order_date
    left join actual on checked_days.order_date = actual.order_date

)

select * from compared
where
    orders_difference <> 0
    or net_revenue_difference <> 0
    or cancelled_orders_difference <> 0
    or refunded_amount_difference <> 0

{% endtest %}
