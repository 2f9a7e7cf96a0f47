{{
    config(
        incremental_strategy='append',
    )
}}

-- Every change to a day's totals, as it happened: the first totals a day ever had, then one
-- row per later revision with the previous and new totals, the delta, the run that revised
-- it and the arrival batches (ingestion runs) whose events caused it. A re-merge that
-- leaves a day's totals unchanged adds nothing. Append-only: history is never rewritten.
-- Finality: each version records when its day is expected to have settled (`settles_at`,
-- the end of the day plus the lookback the arrival data recommended at the time), and a
-- revision of a day that was already final by the policy (settled, and its previous version
-- unrevised for `finality_quiet_hours`) is flagged `revised_final_day`.

{%- set quiet_hours = number_var('finality_quiet_hours', 0, 87600) | int %}
{%- set remerge_days = number_var('orders_remerge_window_days', 1, 3660) | int %}
{%- set recommendation = last_lookback_recommendation() %}
{%- set knows_settling = is_incremental() and 'settles_at' in (
    adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list
) %}

with revenue as (

    select * from {{ ref('revenue_daily') }}
    {% if is_incremental() %}
        where merged_at > (
            select coalesce(max(revised_at), cast('1900-01-01' as {{ dbt.type_timestamp() }}))
            from {{ this }}
        )
    {% endif %}

),

settle_lookback as (

    -- the lookback the lateness models last recommended, or the re-merge window before
    -- there is a recommendation
    {% if recommendation is not none %}
        select
            coalesce(max(recommended_lookback_days), {{ remerge_days }}) as lookback_days
        from {{ recommendation }}
    {% else %}
        select {{ remerge_days }} as lookback_days
    {% endif %}

),

merged_arrivals as (

    -- the newest arrival the marts have merged: what every version made now knew of (the
    -- order versions behind a revision are compared as known at these, order_history)
    select
        max({{ arrived_at('latest_event_ingested_at', 'latest_event_time') }}) as known_through
    from {{ ref('fct_orders') }}

),

day_arrivals as (

    -- the newest arrival among each day's orders: what this version of the day knows of
    select
        order_date,
        max(latest_event_ingested_at) as arrived_through
    from {{ ref('fct_orders') }}
    where order_date in (select revenue.order_date from revenue)
    group by order_date

),

{% if is_incremental() %}

    ranked_revisions as (

        select
            *,
            row_number() over (partition by order_date order by revised_at desc) as recency
        from {{ this }}
        where order_date in (select revenue.order_date from revenue)

    ),

    latest_known as (

        select * from ranked_revisions
        where recency = 1

    ),

{% endif %}

compared as (

    select
        revenue.order_date,
        revenue.merged_at as revised_at,
        {% if is_incremental() %}
            latest_known.revised_at as previous_revised_at,
            latest_known.arrived_through as previous_arrived_through,
            latest_known.orders as previous_orders,
            latest_known.net_revenue as previous_net_revenue,
            latest_known.cancelled_orders as previous_cancelled_orders,
            latest_known.refunded_amount as previous_refunded_amount,
            {% if knows_settling %}
                latest_known.settles_at as previous_settles_at,
            {% else %}
                cast(null as {{ dbt.type_timestamp() }}) as previous_settles_at,
            {% endif %}
        {% else %}
            cast(null as {{ dbt.type_timestamp() }}) as previous_revised_at,
            cast(null as {{ dbt.type_timestamp() }}) as previous_arrived_through,
            cast(null as {{ dbt.type_bigint() }}) as previous_orders,
            cast(null as decimal(18, 2)) as previous_net_revenue,
            cast(null as {{ dbt.type_bigint() }}) as previous_cancelled_orders,
            cast(null as decimal(18, 2)) as previous_refunded_amount,
            cast(null as {{ dbt.type_timestamp() }}) as previous_settles_at,
        {% endif %}
        revenue.orders,
        revenue.net_revenue,
        revenue.cancelled_orders,
        revenue.refunded_amount,
        day_arrivals.arrived_through,
        cast(
            {{ dbt.dateadd('day', 'settle_lookback.lookback_days + 1', 'revenue.order_date') }}
            as {{ dbt.type_timestamp() }}
        ) as settles_at,
        merged_arrivals.known_through
    from revenue
    cross join settle_lookback
    cross join merged_arrivals
    left join day_arrivals on revenue.order_date = day_arrivals.order_date
    {% if is_incremental() %}
        left join latest_known on revenue.order_date = latest_known.order_date
    {% endif %}

),

changed as (

    select * from compared
    where
        previous_revised_at is null
        or orders <> previous_orders
        or net_revenue <> previous_net_revenue
        or cancelled_orders <> previous_cancelled_orders
        or refunded_amount <> previous_refunded_amount

),

arrivals as (

    -- the batches that landed the snapshots of orders on (or leaving) a changed day after
    -- everything the day's previous version knew of
    select
        changed.order_date,
        {{ sorted_distinct_listagg("orders.latest_load_id", "', '") }}
            as arrival_load_ids
    from changed
    inner join {{ ref('fct_orders') }} as orders
        on (
            changed.order_date = orders.order_date
            or changed.order_date = orders.previous_order_date
        )
        and changed.revised_at = orders.merged_at
    where
        orders.latest_event_ingested_at > coalesce(
            changed.previous_arrived_through, cast('1900-01-01' as {{ dbt.type_timestamp() }})
        )
    group by changed.order_date

),

final as (

    select
        {{ dbt.concat([
            dbt.cast("changed.order_date", dbt.type_string()),
            "'@'",
            dbt.cast("changed.revised_at", dbt.type_string()),
        ]) }} as revision_key,
        changed.order_date,
        changed.revised_at,
        changed.previous_revised_at is null as is_first_version,
        changed.previous_orders,
        changed.orders,
        changed.orders - coalesce(changed.previous_orders, 0) as orders_delta,
        changed.previous_net_revenue,
        changed.net_revenue,
        changed.net_revenue - coalesce(changed.previous_net_revenue, 0) as net_revenue_delta,
        changed.previous_cancelled_orders,
        changed.cancelled_orders,
        changed.previous_refunded_amount,
        changed.refunded_amount,
        changed.arrived_through,
        changed.settles_at,
        -- the previous version had settled and stood unrevised for the quiet period
        coalesce(
            changed.previous_revised_at is not null
            and changed.revised_at >= changed.previous_settles_at
            and changed.revised_at
            >= {{ dbt.dateadd('hour', quiet_hours, 'changed.previous_revised_at') }},
            false
        ) as revised_final_day,
        {{ merging_run() }} as revised_by_run,
        arrivals.arrival_load_ids,
        changed.known_through
    from changed
    left join arrivals on changed.order_date = arrivals.order_date

)

select * from final
