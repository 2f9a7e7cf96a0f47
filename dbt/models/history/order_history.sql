{{
    config(
        post_hook="{{ drop_emptied_dates('order_id') }}",
        **daily_incremental_config('order_id'),
    )
}}

{%- set window = orders_window() %}

-- Every version of every order as the warehouse knew it, on both clocks. A snapshot becomes
-- the order's version when it arrives (`valid_from`, its arrival) if it wins over every
-- snapshot of the order that had arrived by then (latest business time, as in fct_orders);
-- it stays the version until a snapshot that wins over it arrives (`valid_to`). The orders
-- as known at T are the rows with valid_from <= T < coalesce(valid_to, infinity), and equal
-- fct_orders rebuilt from the snapshots that had arrived by T. A run rebuilds every version
-- of the orders it touches (the same orders fct_orders re-merges), so it is idempotent and
-- its cost follows the days touched.

with candidate_snapshots as (

    {{ touched_snapshots(ref('stg_orders'), window, 'valid_from') }}

),

ranked as (

    select
        *,
        {{ arrived_at('event_ingested_at', 'event_time') }} as known_from,
        row_number() over (
            partition by order_id
            order by {{ latest_snapshot_first() }}
        ) as business_rank
    from candidate_snapshots

),

best_known as (

    -- the best business rank among the snapshots arrived by each snapshot's arrival
    -- (snapshots that arrived together are peers of one another)
    select
        *,
        min(business_rank) over (
            partition by order_id
            order by known_from
            range between unbounded preceding and current row
        ) as best_rank_known
    from ranked

),

versions as (

    select * from best_known
    where business_rank = best_rank_known

),

sequenced as (

    select
        *,
        row_number() over (partition by order_id order by known_from) as version_number,
        lead(known_from) over (partition by order_id order by known_from) as valid_to,
        lag(event_id) over (partition by order_id order by known_from) as previous_event_id,
        lag(status) over (partition by order_id order by known_from) as previous_status,
        lag(amount) over (partition by order_id order by known_from) as previous_amount,
        lag(order_placed_at) over (
            partition by order_id order by known_from
        ) as previous_order_placed_at
    from versions

),

final as (

    select
        {{ dbt.concat(["order_id", "'@'", "event_id"]) }} as version_key,
        order_id,
        version_number,
        event_id,
        customer_id,
        status,
        amount,
        order_placed_at,
        cast(order_placed_at as date) as order_date,
        event_time,
        known_from as valid_from,
        valid_to,
        valid_to is null as is_current,
        case
            when previous_event_id is not null
                then {{ dbt.concat(["order_id", "'@'", "previous_event_id"]) }}
        end as previous_version_key,
        previous_status,
        previous_amount,
        cast(previous_order_placed_at as date) as previous_order_date,
        event_ingested_at,
        load_id,
        {{ merge_timestamp() }} as merged_at
    from sequenced

)

{{ whole_dates('final', 'order_id') }}
