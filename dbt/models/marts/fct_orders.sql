{{
    config(
        post_hook="{{ drop_emptied_dates('order_id') }}",
        **daily_incremental_config('order_id'),
    )
}}

{%- set window = orders_window() %}

-- One row per order: its latest valid snapshot. An incremental run re-merges every order it
-- touches from all of that order's snapshots, wherever they are dated, so an order re-dated
-- by a late snapshot leaves its old date in the same transaction that gives it the new one.

-- a partition window: orders with any snapshot placed in it, or currently dated in it;
-- a plain dbt build: orders with an event that arrived within the lookback
with candidate_snapshots as (

    {{ touched_snapshots(
        ref('stg_orders'), window, 'coalesce(latest_event_ingested_at, latest_event_time)'
    ) }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by order_id
            order by {{ latest_snapshot_first() }}
        ) as snapshot_rank,
        count(*) over (partition by order_id) as snapshot_count
    from candidate_snapshots

),

latest as (

    select * from ranked
    where snapshot_rank = 1

),

final as (

    select
        latest.order_id,
        latest.customer_id,
        latest.status,
        latest.amount,
        latest.order_placed_at,
        cast(latest.order_placed_at as date) as order_date,
        latest.event_id as latest_event_id,
        latest.event_time as latest_event_time,
        latest.event_ingested_at as latest_event_ingested_at,
        latest.load_id as latest_load_id,
        latest.snapshot_count,
        {% if is_incremental() %}
            -- the date before the order's last re-dating; unchanged by re-merges that do
            -- not move it, so an idempotent re-run leaves the row identical
            case
                when merged.order_date <> cast(latest.order_placed_at as date)
                    then merged.order_date
                else merged.previous_order_date
            end as previous_order_date,
        {% else %}
            cast(null as date) as previous_order_date,
        {% endif %}
        {{ merge_timestamp() }} as merged_at
    from latest
    {% if is_incremental() -%}
    left join {{ this }} as merged on latest.order_id = merged.order_id
    {%- endif %}

)

{{ whole_dates('final', 'order_id') }}
