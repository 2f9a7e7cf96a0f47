{{ config(materialized='view') }}

-- The finance dashboard's daily revenue, as known at `finance_as_of` (a UTC timestamp var;
-- unset = now): the totals each day had at that moment, what was first reported, and how
-- much it has been revised since, so a revised figure is never a silent surprise. Each day
-- is `provisional` or `final` at that moment, by the policy in revenue_daily_history.

{%- set as_of = var('finance_as_of', none) %}
{%- if as_of is not none and not modules.re.fullmatch('[0-9 :T.-]+', as_of | string) %}
    {{ exceptions.raise_compiler_error("finance_as_of must be a timestamp, got " ~ (as_of | string | tojson)) }}
{%- endif %}

with history as (

    select * from {{ ref('revenue_daily_history') }}

),

as_of as (

    select
        {% if as_of is none %}
            {{ dbt.current_timestamp() }}
        {% else %}
            cast('{{ as_of }}' as {{ dbt.type_timestamp() }})
        {% endif %} as known_at

),

known as (

    select history.* from history
    cross join as_of
    where
        history.valid_from <= as_of.known_at
        and (history.valid_to is null or history.valid_to > as_of.known_at)

),

first_reported as (

    select
        order_date,
        net_revenue as first_reported_net_revenue
    from history
    where is_first_version

),

final as (

    select
        known.order_date,
        known.orders,
        known.net_revenue,
        known.cancelled_orders,
        known.refunded_amount,
        first_reported.first_reported_net_revenue,
        known.net_revenue - first_reported.first_reported_net_revenue as revised_since_first_report,
        known.valid_from as known_since,
        not known.is_first_version as is_revised,
        case
            when known.final_from <= as_of.known_at then 'final' else 'provisional'
        end as finality_status,
        known.final_from
    from known
    cross join as_of
    left join first_reported on known.order_date = first_reported.order_date

)

select * from final
