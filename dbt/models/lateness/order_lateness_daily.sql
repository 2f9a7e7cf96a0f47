{{ config(**daily_incremental_config('order_date')) }}

{%- set window = orders_window() %}
{%- set remerge_days = number_var('orders_remerge_window_days', 1, 3660) | int %}
{%- set thresholds = [1, 3, 7, 14] %}

-- How late each order date's events arrived (see macros/lateness.sql for the two clocks).
-- Recomputed for the days revenue_daily recomputed in the same invocation (its partition
-- window, the days merged orders have and the days they left), plus the window's days.

with arrivals as (

    select * from {{ ref('order_arrivals') }}

),

revenue as (

    select * from {{ ref('revenue_daily') }}

),

orders as (

    select * from {{ ref('fct_orders') }}

),

days as (

    {% if is_incremental() %}
        select order_date from revenue
        where merged_at = {{ merge_timestamp() }}
        {% if window %}
            union

            select snapshot_date as order_date from arrivals
            where {{ date_in_window('snapshot_date', window) }}
        {% endif %}
    {% else %}
        select order_date from revenue

        union

        select snapshot_date as order_date from arrivals
    {% endif %}

),

order_snapshots as (

    {{ snapshots_of_orders_on('arrivals', 'orders', 'days') }}

),

ages as (

    {% for age in (thresholds + [remerge_days]) | unique %}
        select {{ age }} as arrival_age_days
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

known as (

    {{ known_net_revenue_by_age('order_snapshots', 'ages') }}

),

known_by_day as (

    -- one row per day, a column per age: `known` is read once (Spark inlines a CTE at
    -- every reference, so a join per age would recompute it per age)
    select
        order_date,
        {% for age in thresholds %}
            sum(case when arrival_age_days = {{ age }} then net_revenue end)
                as net_revenue_known_{{ age }}d,
        {% endfor %}
        sum(case when arrival_age_days = {{ remerge_days }} then net_revenue end)
            as net_revenue_known_in_window
    from known
    group by order_date

),

day_events as (

    select
        snapshot_date as order_date,
        count(*) as events,
        sum(case when seconds_after_day_end > 0 then 1 else 0 end) as events_after_day_end,
        {{ percentile_cont('arrival_delay_seconds', 0.5) }} as arrival_delay_p50_seconds,
        {{ percentile_cont('arrival_delay_seconds', 0.9) }} as arrival_delay_p90_seconds,
        {{ percentile_cont('arrival_delay_seconds', 0.99) }} as arrival_delay_p99_seconds,
        max(arrival_delay_seconds) as arrival_delay_max_seconds,
        {% for age in thresholds %}
            sum(case when arrival_age_days > {{ age }} then 1 else 0 end) as events_over_{{ age }}d,
        {% endfor %}
        sum(case when arrival_age_days > {{ remerge_days }} then 1 else 0 end)
            as events_outside_remerge_window,
        max(arrived_at) as arrived_through
    from order_snapshots
    where snapshot_date in (select days.order_date from days)
    group by snapshot_date

),

final as (

    select
        days.order_date,
        cast(coalesce(day_events.events, 0) as {{ dbt.type_bigint() }}) as events,
        cast(coalesce(day_events.events_after_day_end, 0) as {{ dbt.type_bigint() }})
            as events_after_day_end,
        case
            when day_events.events > 0
                then day_events.events_after_day_end / cast(day_events.events as double)
        end as share_after_day_end,
        day_events.arrival_delay_p50_seconds,
        day_events.arrival_delay_p90_seconds,
        day_events.arrival_delay_p99_seconds,
        day_events.arrival_delay_max_seconds,
        {% for age in thresholds %}
            cast(coalesce(day_events.events_over_{{ age }}d, 0) as {{ dbt.type_bigint() }})
                as events_over_{{ age }}d,
        {% endfor %}
        cast(coalesce(day_events.events_outside_remerge_window, 0) as {{ dbt.type_bigint() }})
            as events_outside_remerge_window,
        cast(coalesce(revenue.net_revenue, 0) as decimal(18, 2)) as net_revenue,
        {% for age in thresholds %}
            -- net revenue the events arriving more than {{ age }} day(s) late added
            -- (negative when they were refunds or cancellations)
            cast(
                coalesce(revenue.net_revenue, 0)
                - coalesce(known_by_day.net_revenue_known_{{ age }}d, 0)
                as decimal(18, 2)
            ) as net_revenue_over_{{ age }}d,
        {% endfor %}
        cast(
            coalesce(revenue.net_revenue, 0)
            - coalesce(known_by_day.net_revenue_known_in_window, 0)
            as decimal(18, 2)
        ) as net_revenue_outside_remerge_window,
        day_events.arrived_through,
        {{ merge_timestamp() }} as merged_at
    from days
    left join day_events on days.order_date = day_events.order_date
    left join revenue on days.order_date = revenue.order_date
    left join known_by_day on days.order_date = known_by_day.order_date

)

select * from final
