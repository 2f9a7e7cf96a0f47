{#-
    Reconciles a mart with an independent recomputation from orders_landing, day by day and
    to the cent: the number of orders and the net revenue per order date.

    The source side does not reuse the model's logic: each order's latest snapshot is found
    by one aggregation (greatest event_time, then greatest event_id) rather than the model's
    window function. Days checked: the run's partition window, or without a window, the days
    of orders merged by this invocation (and the days they left).
    Each failing row is one order date, so Dagster records the outcome per partition.

    grain: 'orders' for a table with one row per order (fct_orders),
           'daily' for a table with one row per day (a rollup; revenue_daily is checked
           against fct_orders instead, see `matches_fct_orders`).
-#}
{% test reconciles_with_landing(model, grain) %}

{%- set window = orders_window() %}
{#- read where used, not through a CTE read three times (see `touched_snapshots`) -#}
{%- set landed = source('landing', 'orders_landing') %}

with checked_days as (

    {% if window %}
        select cast(order_placed_at as date) as order_date from {{ landed }}
        where {{ timestamp_in_window('order_placed_at', window) }}

        union

        select order_date from {{ model }}
        where {{ date_in_window('order_date', window) }}
    {% else %}
        select order_date from {{ ref('fct_orders') }}
        where merged_at = {{ merge_timestamp() }}

        union

        select previous_order_date as order_date from {{ ref('fct_orders') }}
        where merged_at = {{ merge_timestamp() }} and previous_order_date is not null
    {% endif %}

),

-- each order with a snapshot placed on a checked day: its latest snapshot by one
-- aggregation over all of the order's snapshots (greatest business time, then greatest
-- event id), not the model's window function; a retry (a line whose event id had landed
-- before, flagged by the loader) adds nothing
latest as (

    select
        order_id,
        {{ greatest_by(['status', 'amount', 'order_placed_at'], ['event_time', 'event_id']) }}
            as snapshot
    from {{ landed }}
    where
        not coalesce(is_retry, false)
        and order_id in (
            select order_id from {{ landed }}
            {% if window %}
                -- the window's days, as a range the scan can skip row groups by
                where {{ timestamp_in_window('order_placed_at', window) }}
            {% else %}
                where cast(order_placed_at as date) in (select order_date from checked_days)
            {% endif %}
        )
    group by order_id

),

expected as (

    select
        cast(snapshot.order_placed_at as date) as order_date,
        count(*) as orders,
        sum(
            case
                when snapshot.status not in ('cancelled', 'refunded') then snapshot.amount
                else 0
            end
        ) as net_revenue
    from latest
    group by cast(snapshot.order_placed_at as date)

),

actual as (

    {% if grain == 'orders' %}
        select
            order_date,
            count(*) as orders,
            sum(case when status not in ('cancelled', 'refunded') then amount else 0 end)
                as net_revenue
        from {{ model }}
        where order_date in (select order_date from checked_days)
        group by order_date
    {% else %}
        select order_date, orders, net_revenue from {{ model }}
        where order_date in (select order_date from checked_days)
    {% endif %}

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
            as net_revenue_difference
    from checked_days
    left join expected on checked_days.order_date = expected.order_date
    left join actual on checked_days.order_date = actual.order_date

)

select * from compared
where orders_difference <> 0 or net_revenue_difference <> 0

{% endtest %}
