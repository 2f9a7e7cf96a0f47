-- A one-row table, not a view: readers on Spark see tables only (as parquet files).
{{ config(materialized='table') }}

{%- set target = number_var('lateness_target_share', 0, 1) %}
{%- set lookback_days = number_var('orders_lookback_days', 0, 3660) | int %}
{%- set remerge_days = number_var('orders_remerge_window_days', 1, 3660) | int %}

-- One row: the smallest lookback (in days after a day ends) that covers the target share
-- (`lateness_target_share`) of both the events and the net revenue of the trailing window,
-- beside what the configured windows cover: the plain-build lookback (`orders_lookback_days`)
-- and the nightly re-merge window (`orders_remerge_window_days`).

with curve as (

    select * from {{ ref('order_completeness_curve') }}

),

shortfalls as (

    -- the oldest age at which each share is still below the target
    select
        max(case when events_known_share < {{ target }} then arrival_age_days end)
            as events_short_until,
        max(case when net_revenue_known_share < {{ target }} then arrival_age_days end)
            as net_revenue_short_until
    from curve

),

lookbacks as (

    -- the first age from which the share stays at or above the target
    select
        min(
            case
                when curve.arrival_age_days > coalesce(shortfalls.events_short_until, -1)
                    then curve.arrival_age_days
            end
        ) as events_lookback_days,
        min(
            case
                when curve.arrival_age_days > coalesce(shortfalls.net_revenue_short_until, -1)
                    then curve.arrival_age_days
            end
        ) as net_revenue_lookback_days,
        max(curve.trailing_first_day) as trailing_first_day,
        max(curve.trailing_last_day) as trailing_last_day
    from curve
    cross join shortfalls

),

configured as (

    select
        'lookback' as configured_window,
        {{ lookback_days }} as configured_days

    union all

    select
        'remerge_window' as configured_window,
        {{ remerge_days }} as configured_days

),

configured_steps as (

    -- the curve is a step function: its value at k is the one at the last age <= k
    -- (a join, not a correlated subquery in the join condition, which Spark refuses)
    select
        configured.configured_window,
        max(curve.arrival_age_days) as arrival_age_days
    from configured
    inner join curve on configured.configured_days >= curve.arrival_age_days
    group by configured.configured_window

),

configured_coverage as (

    select
        configured_steps.configured_window,
        max(curve.events_known_share) as events_share,
        max(curve.net_revenue_known_share) as net_revenue_share
    from configured_steps
    inner join curve on configured_steps.arrival_age_days = curve.arrival_age_days
    group by configured_steps.configured_window

),

final as (

    select
        cast({{ target }} as double) as target_share,
        {{ number_var('lateness_trailing_days', 1, 3660) | int }} as trailing_days,
        lookbacks.trailing_first_day,
        lookbacks.trailing_last_day,
        lookbacks.events_lookback_days,
        lookbacks.net_revenue_lookback_days,
        greatest(lookbacks.events_lookback_days, lookbacks.net_revenue_lookback_days)
            as recommended_lookback_days,
        {{ lookback_days }} as configured_lookback_days,
        lookback.events_share as lookback_events_share,
        lookback.net_revenue_share as lookback_net_revenue_share,
        {{ remerge_days }} as remerge_window_days,
        remerge_window.events_share as remerge_window_events_share,
        remerge_window.net_revenue_share as remerge_window_net_revenue_share
    from lookbacks
    left join configured_coverage as lookback on lookback.configured_window = 'lookback'
    left join configured_coverage as remerge_window
        on remerge_window.configured_window = 'remerge_window'

)

select * from final
