{{
    config(
        materialized='incremental',
        unique_key='customer_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}
-- Incremental by customer: every column comes from the customer's own order rows, so a
-- customer with an order fct_orders rewrote since this table's last build (macro
-- `incremental_since`) is recomputed from all their orders; other customers are not read.
with

{% if is_incremental() %}
changed as (

    select distinct customer_id
    from {{ ref('fct_orders') }}
    where customer_id is not null
        and built_at > {{ incremental_since() }}

),
{% endif %}

orders as (

    select * from {{ ref('fct_orders') }}
    where customer_id is not null
    {% if is_incremental() %}
        and customer_id in (select customer_id from changed)
    {% endif %}

),

ranked as (

    select
        orders.*,
        row_number() over (partition by customer_id order by ordered_at desc, order_id desc) as recency
    from orders

),

aggregated as (

    select
        customer_id,
        min(ordered_at) as first_ordered_at,
        max(ordered_at) as last_ordered_at,
        count(*) as order_count,
        sum(case when is_cancelled then 0 else 1 end) as completed_order_count,
        max(updated_at) as last_order_updated_at
    from orders
    group by customer_id

),

final as (

    select
        aggregated.customer_id,
        ranked.channel,
        ranked.store_id,
        ranked.external_order_id as last_external_order_id,
        ranked.destination_country_code as last_country_code,
        aggregated.first_ordered_at,
        aggregated.last_ordered_at,
        cast(aggregated.order_count as integer) as order_count,
        cast(aggregated.completed_order_count as integer) as completed_order_count,
        aggregated.order_count > 1 as is_repeat_customer,
        aggregated.last_order_updated_at,
        {{ built_at() }} as built_at

    from aggregated
    inner join ranked on aggregated.customer_id = ranked.customer_id and ranked.recency = 1

)

select * from final
