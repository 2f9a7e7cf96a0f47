{{ config(materialized='ephemeral') }}

-- Every order snapshot with its two lateness clocks (see macros/lateness.sql): the arrival
-- delay behind its business time and the arrival age after its own order date ended.

with snapshots as (

    select * from {{ ref('stg_orders') }}

),

arrivals as (

    select
        event_id,
        order_id,
        status,
        amount,
        event_time,
        cast(order_placed_at as date) as snapshot_date,
        {{ arrived_at('event_ingested_at', 'event_time') }} as arrived_at
    from snapshots

),

clocks as (

    select
        *,
        {{ seconds_between('event_time', 'arrived_at') }} as arrival_delay_seconds,
        {{ seconds_after_day_end('snapshot_date', 'arrived_at') }} as seconds_after_day_end
    from arrivals

),

final as (

    select
        *,
        {{ arrival_age_days('seconds_after_day_end') }} as arrival_age_days
    from clocks

)

select * from final
