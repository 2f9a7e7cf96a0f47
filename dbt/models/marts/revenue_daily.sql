{{ config(**daily_incremental_config('order_date')) }}

{%- set window = orders_window() %}

-- Daily revenue by order date. An incremental run recomputes every day whose orders changed
-- since the last rollup (the days merged orders now have and the days they left), plus the
-- partition window if one is given. A day left with no orders is kept as an explicit zero.

with orders as (

    select * from {{ ref('fct_orders') }}

),

{% if is_incremental() %}

last_rollup as (

    select
        coalesce(max(merged_at), cast('1900-01-01' as {{ dbt.type_timestamp() }})) as merged_at
    from {{ this }}

),

changed_orders as (

    select * from orders
    where merged_at > (select last_rollup.merged_at from last_rollup)

),

{% endif %}

changed_days as (

    {% if is_incremental() %}
        select order_date from changed_orders

        union

        select previous_order_date as order_date from changed_orders
        where previous_order_date is not null

        {% if window %}
            union

            select order_date from orders
            where {{ date_in_window('order_date', window) }}

            union

            select order_date from {{ this }}
            where {{ date_in_window('order_date', window) }}
        {% endif %}
    {% else %}
        select distinct order_date from orders
    {% endif %}

),

daily as (

    select
        order_date,
        count(*) as orders,
        sum({{ net_amount('status', 'amount') }}) as net_revenue,
        sum(case when status = 'cancelled' then 1 else 0 end) as cancelled_orders,
        sum(case when status = 'refunded' then amount else 0 end) as refunded_amount
    from orders
    where order_date in (select changed_days.order_date from changed_days)
    group by order_date

),

final as (

    select
        changed_days.order_date,
        cast(coalesce(daily.orders, 0) as {{ dbt.type_bigint() }}) as orders,
        cast(coalesce(daily.net_revenue, 0) as decimal(18, 2)) as net_revenue,
        cast(coalesce(daily.cancelled_orders, 0) as {{ dbt.type_bigint() }}) as cancelled_orders,
        cast(coalesce(daily.refunded_amount, 0) as decimal(18, 2)) as refunded_amount,
        {{ merge_timestamp() }} as merged_at
    from changed_days
    left join daily on changed_days.order_date = daily.order_date

)

select * from final
