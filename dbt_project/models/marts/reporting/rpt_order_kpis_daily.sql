-- The KPIs sellers are judged on, per seller-local order day, channel and store. Counts are
-- stored (not just rates) so any period or channel group can be re-aggregated exactly; the
-- rates are the counts divided, null when nothing was eligible.
--   auto-processed: not cancelled, shipped, no parcel exception or failed attempt, no refund
--                   and no dispute - the order needed no person.
--   on-time shipping: first parcel handed to the carrier by the channel's ship-by time, or
--                     within var `handling_days_promised` days when the channel sets none.
--   on-time delivery: last parcel delivered by the promised date (per parcel in fct_shipments).
--   refund cycle: days from order to its first refund.
with

orders as (

    select * from {{ ref('fct_orders') }}

),

shipments as (

    select
        order_id,
        max(case when had_exception then 1 else 0 end) as had_exception,
        max(case when shipment_status = 'returned' then 1 else 0 end) as was_returned,
        min(case when is_delivered_on_time is false then 0 when is_delivered_on_time then 1 end) as all_on_time
    from {{ ref('fct_shipments') }}
    where order_id is not null
    group by order_id

),

refunds as (

    select order_id, max(case when has_return then 1 else 0 end) as has_return
    from {{ ref('fct_refunds') }}
    where order_id is not null
    group by order_id

),

disputes as (

    select distinct payments.order_id
    from {{ ref('stg_stripe__disputes') }} as disputes
    inner join {{ ref('fct_payments') }} as payments on payments.external_payment_id = disputes.charge_id

),

per_order as (

    select
        orders.order_local_date,
        orders.channel,
        orders.store_id,
        orders.order_id,
        orders.is_cancelled,
        orders.first_shipped_at is not null as is_shipped,
        {{ dbt.datediff('orders.ordered_at', 'orders.first_shipped_at', 'minute') }} / 60.0 as order_to_ship_hours,
        orders.first_shipped_at <= coalesce(
            orders.latest_ship_at,
            {{ dbt.dateadd('day', var('handling_days_promised'), 'orders.ordered_at') }}
        ) as is_shipped_on_time,
        shipments.all_on_time = 1 as is_delivered_on_time,
        shipments.all_on_time is not null as has_delivery_verdict,
        coalesce(shipments.had_exception, 0) = 1 as had_exception,
        refunds.order_id is not null as is_refunded,
        coalesce(refunds.has_return, 0) = 1 or coalesce(shipments.was_returned, 0) = 1 as is_returned,
        disputes.order_id is not null as is_disputed,
        {{ dbt.datediff('orders.ordered_at', 'orders.first_refunded_at', 'day') }} as refund_cycle_days

    from orders
    left join shipments on orders.order_id = shipments.order_id
    left join refunds on orders.order_id = refunds.order_id
    left join disputes on orders.order_id = disputes.order_id

),

final as (

    select
        order_local_date,
        channel,
        store_id,
        count(*) as order_count,
        sum(case when is_cancelled then 1 else 0 end) as cancelled_order_count,
        sum(case when is_shipped then 1 else 0 end) as shipped_order_count,
        sum(case when not is_cancelled and is_shipped and not had_exception and not is_refunded and not is_disputed
            then 1 else 0 end) as auto_processed_order_count,
        avg(order_to_ship_hours) as avg_order_to_ship_hours,
        sum(case when is_shipped_on_time then 1 else 0 end) as shipped_on_time_order_count,
        sum(case when has_delivery_verdict then 1 else 0 end) as delivery_verdict_order_count,
        sum(case when is_delivered_on_time then 1 else 0 end) as delivered_on_time_order_count,
        sum(case when had_exception then 1 else 0 end) as exception_order_count,
        sum(case when is_returned then 1 else 0 end) as returned_order_count,
        sum(case when is_refunded then 1 else 0 end) as refunded_order_count,
        avg(refund_cycle_days) as avg_refund_cycle_days,
        1.0 * sum(case when not is_cancelled and is_shipped and not had_exception and not is_refunded and not is_disputed
            then 1 else 0 end) / nullif(sum(case when is_cancelled then 0 else 1 end), 0) as auto_processing_rate,
        1.0 * sum(case when is_shipped_on_time then 1 else 0 end)
            / nullif(sum(case when is_shipped then 1 else 0 end), 0) as on_time_shipping_rate,
        1.0 * sum(case when is_delivered_on_time then 1 else 0 end)
            / nullif(sum(case when has_delivery_verdict then 1 else 0 end), 0) as on_time_delivery_rate,
        1.0 * sum(case when had_exception then 1 else 0 end)
            / nullif(sum(case when is_shipped then 1 else 0 end), 0) as exception_rate,
        1.0 * sum(case when is_returned then 1 else 0 end)
            / nullif(sum(case when is_shipped then 1 else 0 end), 0) as return_rate,
        1.0 * sum(case when is_refunded then 1 else 0 end)
            / nullif(sum(case when is_cancelled then 0 else 1 end), 0) as refund_rate

    from per_order
    group by order_local_date, channel, store_id

)

select * from final
