{{ config(materialized='view') }}

-- Each version of a day's totals with the interval it was the known truth:
-- [valid_from, valid_to). "Revenue for day D as known at time T" is the row of D with
-- valid_from <= T < coalesce(valid_to, infinity).
-- Finality policy: a version is final from `final_from`, the later of the moment its day
-- settled (end of day + recommended lookback, see revenue_daily_revisions) and the end of
-- the quiet period (`finality_quiet_hours`) without a revision. Until then it is provisional.

{%- set quiet_hours = number_var('finality_quiet_hours', 0, 87600) | int %}

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
        revised_final_day,
        settles_at,
        greatest(settles_at, {{ dbt.dateadd('hour', quiet_hours, 'revised_at') }}) as final_from,
        revised_by_run,
        arrival_load_ids
    from revisions

)

select * from final
