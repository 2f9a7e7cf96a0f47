{{ config(materialized='table') }}

{%- set trailing_days = number_var('lateness_trailing_days', 1, 3660) | int %}

-- The completeness curve over the trailing `lateness_trailing_days` order dates (ending at
-- the newest day with revenue): for each arrival age k in days, the share of the window's
-- events that had arrived k days after their day, and the share of its current net revenue
-- that was already right then. Built from arrival times, not from the revision history:
-- arrivals measure the SDK, whereas revisions also depend on when the platform happened to
-- re-merge (a day first merged late, or only nightly, would look later than its data was).

with arrivals as (

    select * from {{ ref('order_arrivals') }}

),

revenue as (

    select * from {{ ref('revenue_daily') }}

),

orders as (

    select * from {{ ref('fct_orders') }}

),

trailing_window as (

    select
        cast({{ dbt.dateadd("day", -1 * (trailing_days - 1), "max(order_date)") }} as date)
            as first_day,
        max(order_date) as last_day
    from revenue

),

window_days as (

    select
        revenue.order_date,
        revenue.net_revenue
    from revenue
    cross join trailing_window
    where
        revenue.order_date >= trailing_window.first_day
        and revenue.order_date <= trailing_window.last_day

),

order_snapshots as (

    {{ snapshots_of_orders_on('arrivals', 'orders', 'window_days') }}

),

ages as (

    -- the curve only moves at ages some snapshot arrived at
    select 0 as arrival_age_days

    union

    select arrival_age_days from order_snapshots

),

known as (

    {{ known_net_revenue_by_age('order_snapshots', 'ages') }}

),

window_events as (

    select
        arrival_age_days,
        count(*) as events
    from order_snapshots
    where snapshot_date in (select window_days.order_date from window_days)
    group by arrival_age_days

),

events_by_age as (

    select
        ages.arrival_age_days,
        sum(
            case
                when window_events.arrival_age_days <= ages.arrival_age_days
                    then window_events.events
                else 0
            end
        ) as events_known,
        sum(window_events.events) as events
    from ages
    cross join window_events
    group by ages.arrival_age_days

),

revenue_by_age as (

    -- how far each day's figure at age k was from its current figure, summed over the days
    select
        ages.arrival_age_days,
        sum(abs(window_days.net_revenue - coalesce(known.net_revenue, 0))) as net_revenue_unsettled,
        sum(abs(window_days.net_revenue)) as net_revenue
    from ages
    cross join window_days
    left join known
        on
            ages.arrival_age_days = known.arrival_age_days
            and window_days.order_date = known.order_date
    group by ages.arrival_age_days

),

final as (

    select
        ages.arrival_age_days,
        trailing_window.first_day as trailing_first_day,
        trailing_window.last_day as trailing_last_day,
        cast(coalesce(events_by_age.events_known, 0) as {{ dbt.type_bigint() }}) as events_known,
        cast(coalesce(events_by_age.events, 0) as {{ dbt.type_bigint() }}) as events,
        case
            when events_by_age.events > 0
                then events_by_age.events_known / cast(events_by_age.events as double)
            else 1.0
        end as events_known_share,
        cast(coalesce(revenue_by_age.net_revenue_unsettled, 0) as decimal(18, 2))
            as net_revenue_unsettled,
        case
            when revenue_by_age.net_revenue > 0
                then
                    1.0 - revenue_by_age.net_revenue_unsettled
                    / cast(revenue_by_age.net_revenue as double)
            else 1.0
        end as net_revenue_known_share
    from ages
    cross join trailing_window
    left join events_by_age on ages.arrival_age_days = events_by_age.arrival_age_days
    left join revenue_by_age on ages.arrival_age_days = revenue_by_age.arrival_age_days

)

select * from final
