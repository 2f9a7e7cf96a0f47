{#-
    Arrival lateness, portable across engines (what differs per engine is in engine.sql).

    Two clocks measure lateness:
    - the arrival delay, `arrived_at - event_time`: how long the SDK held an event;
    - the arrival age, `arrived_at - end of the order date`: how long after its day an event
      landed, which is what a re-merge window over order dates must reach.
    An event's arrival is `coalesce(event_ingested_at, event_time)`: legacy rows without an
    arrival stamp count as on time, as everywhere else.
-#}

{#- When an event counts as arrived: its stamp, or its business time for legacy rows. -#}
{% macro arrived_at(ingested_at, event_time) -%}
    coalesce({{ ingested_at }}, {{ event_time }})
{%- endmacro %}


{#- Seconds from the end of `order_date` (a date) to `at` (a naive UTC timestamp). -#}
{% macro seconds_after_day_end(order_date, at) -%}
    {{ seconds_between(
        "cast(" ~ dbt.dateadd('day', 1, order_date) ~ " as " ~ dbt.type_timestamp() ~ ")",
        at
    ) }}
{%- endmacro %}


{#- Whole days after its day an event arrived, rounded up: 0 = before the day ended, 1 =
    within the first 24 h after it, and so on. "Known k days after the day" = age <= k. -#}
{% macro arrival_age_days(seconds_after_day_end) -%}
    case
        when {{ seconds_after_day_end }} <= 0 then 0
        else cast(ceil({{ seconds_after_day_end }} / 86400.0) as {{ dbt.type_bigint() }})
    end
{%- endmacro %}


{#- A validated numeric var (a setting): raises unless it is a number within [low, high]. -#}
{% macro number_var(name, low, high) -%}
    {%- set value = var(name) -%}
    {%- if not modules.re.fullmatch('[0-9]+(\\.[0-9]+)?', value | string)
        or (value | float) < low or (value | float) > high -%}
        {{ exceptions.raise_compiler_error(
            name ~ " must be a number in [" ~ low ~ ", " ~ high ~ "], got " ~ (value | string | tojson)) }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}


{#-
    Each day's net revenue as it was known `arrival_age_days` after the day: the latest
    snapshot (`latest_snapshot_first`, as in fct_orders) of every order among
    the snapshots that had arrived by then, summed by that snapshot's order date.
    `arrivals` holds order_arrivals rows of whole orders; `ages` a column `arrival_age_days`.

    A snapshot is its order's known state from its own arrival age until the first arrival
    of a snapshot that ranks above it (never, if that one arrived no later). So each snapshot adds its net amount to its day at
    the first age and takes it away at the second, and a day's figure at age k is the sum
    of the changes up to k: one window over the snapshots, instead of ranking every
    snapshot once per age (snapshots x ages rows, the cost of the whole curve).
    Each span's two edges come from a single pass: Spark inlines a CTE or subquery at every
    reference, so a second reference would window the snapshots again.
    Days without any change up to an age have no row (read them as 0).
-#}
{% macro known_net_revenue_by_age(arrivals, ages) -%}
    {%- set known_spans -%}
        select
            snapshot_date,
            arrival_age_days as known_from_age,
            min(arrival_age_days) over (
                partition by order_id
                order by {{ latest_snapshot_first() }}
                rows between unbounded preceding and 1 preceding
            ) as superseded_at_age,
            {{ net_amount('status', 'amount') }} as net_amount
        from {{ arrivals }}
    {%- endset -%}
    {#- a snapshot overtaken by one that arrived no later was never the known state -#}
    {%- set known_at_some_age -%}
        (spans.superseded_at_age is null or spans.superseded_at_age > spans.known_from_age)
    {%- endset -%}
    select
        ages.arrival_age_days,
        changes.snapshot_date as order_date,
        sum(changes.net_revenue_change) as net_revenue
    from (
        select
            edge_changes.snapshot_date,
            edge_changes.arrival_age_days,
            sum(edge_changes.net_revenue_change) as net_revenue_change
        from (
            select
                spans.snapshot_date,
                case
                    when edges.edge = 1 then spans.known_from_age
                    else spans.superseded_at_age
                end as arrival_age_days,
                edges.edge * spans.net_amount as net_revenue_change
            from ({{ known_spans }}) as spans
            cross join (select 1 as edge union all select -1 as edge) as edges
            where
                {{ known_at_some_age }}
                and (edges.edge = 1 or spans.superseded_at_age is not null)
        ) as edge_changes
        group by edge_changes.snapshot_date, edge_changes.arrival_age_days
    ) as changes
    inner join {{ ages }} as ages on changes.arrival_age_days <= ages.arrival_age_days
    group by ages.arrival_age_days, changes.snapshot_date
{%- endmacro %}


{#-
    Every snapshot of every order that touches the days in relation `days` (column
    `order_date`): a snapshot dated on one of them, or the order currently dated on one in
    `orders` (fct_orders). Whole orders, because a day's figure "as known at age k" depends
    on each order's latest snapshot, wherever that snapshot is dated.
-#}
{% macro snapshots_of_orders_on(arrivals, orders, days) -%}
    select * from {{ arrivals }}
    where order_id in (
        select order_id from {{ arrivals }}
        where snapshot_date in (select {{ days }}.order_date from {{ days }})

        union

        select order_id from {{ orders }}
        where order_date in (select {{ days }}.order_date from {{ days }})
    )
{%- endmacro %}


{#- The lookback recommendation table as the lateness models last built it, or none before
    they have run. Looked up, not ref()'d: the lateness models are reports built after the
    marts in runs of their own, so the re-merge must neither wait for them nor depend on
    them (a ref would make revenue_daily_revisions their downstream). -#}
{% macro last_lookback_recommendation() -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(adapter.get_relation(
        database=this.database,
        schema=this.schema,
        identifier='order_lookback_recommendation',
    )) }}
{%- endmacro %}
