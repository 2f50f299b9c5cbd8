-- One row per label the seller bought: what it paid the label platform (postage and fees) and,
-- for DDP parcels, the duties and import taxes the carrier billed, each beside its currency,
-- matched to the order by the channel's order id (EasyPost `reference`). A label whose id
-- names no order, or two, stays unmatched (null order) rather than guessed, as payments do.
with

labels as (

    select * from {{ ref('stg_easypost__shipments') }}

),

orders as (

    select external_order_id, order_id, channel, store_id, destination_country_code
    from {{ ref('int_orders_by_external_id') }}

),

final as (

    select
        labels.label_id,
        orders.order_id,
        orders.channel,
        orders.store_id,
        labels.external_order_id,
        coalesce(labels.destination_country_code, orders.destination_country_code) as destination_country_code,
        labels.origin_country_code,
        labels.carrier,
        labels.carrier_service,
        labels.tracking_number,
        labels.purchased_at,
        labels.updated_at,
        labels.incoterm,
        labels.shipping_cost_currency_code,
        labels.postage_amount,
        labels.label_fee_amount,
        labels.shipping_cost_amount,
        labels.duties_currency_code,
        labels.customs_value_amount,
        labels.duty_amount,
        labels.import_tax_amount,
        labels.duties_amount,
        labels.duties_billed_at

    from labels
    left join orders on labels.external_order_id = orders.external_order_id

)

select * from final
