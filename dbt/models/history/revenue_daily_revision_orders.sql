{{
    config(
        incremental_strategy='append',
    )
}}

{%- set window = orders_window() %}

-- Which orders caused each revision of a day's totals: one row per order whose contribution
-- to the day differs between the day's previous version and this one, comparing the order as
-- known when each was made (order_history as of each version's `known_through`). `change`
-- names what happened to it: added, moved_in, moved_out, cancelled, refunded, reinstated or
-- amount_changed. A revision
-- no order version explains (imported history counts as known at its business time) gets
-- one row with change `unexplained`, so no revision goes unlinked. Each revision is linked
-- once, by the first run over its day after the revision; append-only.

with revisions as (

    select
        revision_key,
        order_date,
        revised_at,
        net_revenue_delta,
        is_first_version,
        -- what each version knew of (versions made before that was recorded: their time)
        coalesce(known_through, revised_at) as known_through,
        lag(coalesce(known_through, revised_at)) over (
            partition by order_date order by revised_at
        ) as previous_known_through
    from {{ ref('revenue_daily_revisions') }}
    {% if window %}
        where {{ date_in_window('order_date', window) }}
    {% endif %}

),

unlinked as (

    select * from revisions
    where
        not is_first_version
    {% if is_incremental() %}
        and revision_key not in (select linked.revision_key from {{ this }} as linked)
    {% endif %}

),

versions as (

    select * from {{ ref('order_history') }}

),

day_orders as (

    -- orders dated on the revised day by a version valid at some point between the two
    select distinct
        unlinked.revision_key,
        versions.order_id
    from unlinked
    inner join versions
        on
            unlinked.order_date = versions.order_date
            and unlinked.known_through >= versions.valid_from
            and (versions.valid_to is null or unlinked.previous_known_through < versions.valid_to)

),

states as (

    -- each such order as known at the previous version of the day and at this one
    select
        unlinked.revision_key,
        unlinked.order_date,
        unlinked.revised_at,
        day_orders.order_id,
        known_before.version_key as previous_version_key,
        known_before.order_date as previous_order_date,
        known_before.status as previous_status,
        known_before.amount as previous_amount,
        known_after.version_key,
        known_after.order_date as version_order_date,
        known_after.status,
        known_after.amount,
        coalesce(known_before.order_date = unlinked.order_date, false) as was_on_day,
        coalesce(known_after.order_date = unlinked.order_date, false) as is_on_day
    from day_orders
    inner join unlinked on day_orders.revision_key = unlinked.revision_key
    left join versions as known_before
        on
            day_orders.order_id = known_before.order_id
            and unlinked.previous_known_through >= known_before.valid_from
            and (
                known_before.valid_to is null
                or unlinked.previous_known_through < known_before.valid_to
            )
    left join versions as known_after
        on
            day_orders.order_id = known_after.order_id
            and unlinked.known_through >= known_after.valid_from
            and (known_after.valid_to is null or unlinked.known_through < known_after.valid_to)

),

contributions as (

    select
        *,
        case
            when is_on_day then {{ net_amount('status', 'amount') }} else 0
        end
        - case
            when was_on_day then {{ net_amount('previous_status', 'previous_amount') }} else 0
        end as net_revenue_delta
    from states

),

changed as (

    select
        *,
        case
            when not was_on_day and previous_version_key is null then 'added'
            when not was_on_day then 'moved_in'
            when not is_on_day then 'moved_out'
            when status in ('cancelled', 'refunded') and status <> previous_status then status
            when previous_status in ('cancelled', 'refunded') and status <> previous_status
                then 'reinstated'
            else 'amount_changed'
        end as change
    from contributions
    where
        was_on_day <> is_on_day
        or (
            is_on_day
            and (
                amount <> previous_amount
                or (status = 'cancelled') <> (previous_status = 'cancelled')
                or (status = 'refunded') <> (previous_status = 'refunded')
            )
        )

),

unexplained as (

    select * from unlinked
    where revision_key not in (select changed.revision_key from changed)

),

links as (

    select
        revision_key,
        order_date,
        revised_at,
        order_id,
        change,
        previous_version_key,
        version_key,
        previous_order_date,
        version_order_date,
        previous_status,
        status,
        previous_amount,
        amount,
        net_revenue_delta
    from changed

    union all

    select
        revision_key,
        order_date,
        revised_at,
        cast(null as {{ dbt.type_string() }}) as order_id,
        'unexplained' as change,
        cast(null as {{ dbt.type_string() }}) as previous_version_key,
        cast(null as {{ dbt.type_string() }}) as version_key,
        cast(null as date) as previous_order_date,
        cast(null as date) as version_order_date,
        cast(null as {{ dbt.type_string() }}) as previous_status,
        cast(null as {{ dbt.type_string() }}) as status,
        cast(null as decimal(18, 2)) as previous_amount,
        cast(null as decimal(18, 2)) as amount,
        net_revenue_delta
    from unexplained

),

final as (

    select
        {{ dbt.concat([
            "revision_key", "'#'", "coalesce(order_id, '')"
        ]) }} as link_key,
        *,
        {{ merging_run() }} as linked_by_run
    from links

)

select * from final
