{#-
    The orders linked to each revision of a day account for the revision's whole change in
    net revenue: the sum of their contributions equals the revision's delta, to the cent.
    Each failing row is one revision, dated by its day.
-#}
{% test adds_up_to_revisions(model) %}

with linked as (

    select
        revision_key,
        order_date,
        sum(net_revenue_delta) as linked_net_revenue_delta
    from {{ model }}
    group by revision_key, order_date

),

revisions as (

    select revision_key, net_revenue_delta from {{ ref('revenue_daily_revisions') }}

),

final as (

    select
        linked.revision_key,
        linked.order_date,
        linked.linked_net_revenue_delta,
        revisions.net_revenue_delta
    from linked
    left join revisions on linked.revision_key = revisions.revision_key
    where
        revisions.revision_key is null
        or linked.linked_net_revenue_delta <> revisions.net_revenue_delta

)

select * from final

{% endtest %}
