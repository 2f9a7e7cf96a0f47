{#-
    Reconciles a mart with an independent recomputation from orders_landing, day by day and
    to the cent: the number of orders and the net revenue per order date.

    The source side does not reuse the model's logic: the latest snapshot is found with an
    anti-join ("no later snapshot of the same order exists") over distinct snapshots rather
    than the model's window function. Days checked: the run's partition window, or without a
    window, the days of orders merged by this invocation (and the days they left).
    Each failing row is one order date, so Dagster records the outcome per partition.

    grain: 'orders' for a table with one row per order (fct_orders),
           'daily' for a table with one row per day (revenue_daily).
-#}
{% test reconciles_with_landing(model, grain) %}

{%- set window = orders_window() %}

with landed as (

    select * from {{ source('landing', 'orders_landing') }}

),

checked_days as (

    {% if window %}
        select cast(order_placed_at as date) as order_date from landed
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

-- narrowed to the checked days' orders before de-duplicating, so the cost follows the days
-- checked, not the history kept
candidate_snapshots as (

    select distinct order_id, event_id, status, amount, order_placed_at, event_time
    from landed
    where order_id in (
        select order_id from landed
        where cast(order_placed_at as date) in (select order_date from checked_days)
    )

),

latest as (

    select * from candidate_snapshots as snapshot
    where not exists (
        select 1 from candidate_snapshots as later
        where
            later.order_id = snapshot.order_id
            and (
                later.event_time > snapshot.event_time
                or (later.event_time = snapshot.event_time and later.event_id > snapshot.event_id)
            )
    )

),

expected as (

    select
        cast(order_placed_at as date) as order_date,
        count(*) as orders,
        sum(case when status not in ('cancelled', 'refunded') then amount else 0 end)
            as net_revenue
    from latest
    group by cast(order_placed_at as date)

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
