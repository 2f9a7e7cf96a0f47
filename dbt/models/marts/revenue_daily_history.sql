{{ config(materialized='view') }}

-- Each version of a day's totals with the interval it was the known truth:
-- [valid_from, valid_to). "Revenue for day D as known at time T" is the row of D with
-- valid_from <= T < coalesce(valid_to, infinity).

with revisions as (

    select * from {{ ref('revenue_daily_revisions') }}

),

final as (

    select
        revision_key,
        order_date,
        revised_at as valid_from,
        lead(revised_at) over (partition by order_date order by revised_at) as valid_to,
        orders,
        net_revenue,
        cancelled_orders,
        refunded_amount,
        orders_delta,
        net_revenue_delta,
        is_first_version,
        revised_by_run,
        arrival_load_ids
    from revisions

)

select * from final
