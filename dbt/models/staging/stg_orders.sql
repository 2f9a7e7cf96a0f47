-- One row per order event, typed. Retries were flagged when they landed, so this view is a
-- plain filter: a re-merge's `order_id` filter reaches the landing scan, which a dedupe
-- window here would prevent.
with landed as (

    select * from {{ source('landing', 'orders_landing') }}

),

final as (

    select
        event_id,
        order_id,
        customer_id,
        status,
        amount,
        order_placed_at,
        event_time,
        event_ingested_at,
        source_file,
        source_line_number,
        load_id
    from landed
    -- rows from before the retry flag existed are kept, never silently filtered out
    where coalesce(is_retry, false) = false

)

select * from final
