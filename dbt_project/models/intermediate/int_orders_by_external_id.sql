-- Every channel order id that names exactly one order, with what payments, refunds and parcels
-- take from their order. Processors and the tracking aggregator know only the channel's own
-- order id (charge metadata, PayPal custom field, the parcel's order number), never the store:
-- an id that two stores share names no order, and the record stays unmatched rather than
-- guessed. Computed once here for int_payments_matched, int_refunds_unioned and int_shipments,
-- which each grouped the million orders again.
with

orders as (

    select order_id, channel, store_id, external_order_id, ordered_at, destination_country_code, latest_delivery_at
    from {{ ref('int_orders_unioned') }}

),

final as (

    -- With one order per id, max() is that order's value.
    select
        external_order_id,
        max(order_id) as order_id,
        max(channel) as channel,
        max(store_id) as store_id,
        max(ordered_at) as ordered_at,
        max(destination_country_code) as destination_country_code,
        max(latest_delivery_at) as latest_delivery_at
    from orders
    group by external_order_id
    having count(*) = 1

)

select * from final
