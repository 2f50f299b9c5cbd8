with

orders as (

    select * from {{ ref('stg_shopify__orders') }}

),

order_lines as (

    select * from {{ ref('stg_shopify__order_lines') }}

),

line_totals as (

    select
        order_id,
        count(*) as line_count,
        sum(quantity) as item_quantity

    from order_lines
    group by order_id

),

final as (

    select
        orders.order_id,
        orders.channel,
        orders.store_id,
        orders.external_order_id,
        orders.order_name,
        orders.customer_id,
        orders.ordered_at,
        orders.updated_at,
        {{ dbt.cast("orders.ordered_at", "date") }} as order_date,
        orders.financial_status,
        orders.fulfillment_status,
        orders.cancelled_at is not null as is_cancelled,
        (
            orders.cancelled_at is null
            and orders.financial_status in ('paid', 'partially_paid', 'authorized', 'partially_refunded')
            and coalesce(orders.fulfillment_status, 'unfulfilled') in ('unfulfilled', 'partial')
        ) as is_awaiting_shipment,
        orders.destination_country_code,
        orders.destination_city,
        orders.destination_postal_code,
        orders.destination_latitude,
        orders.destination_longitude,
        orders.currency_code,
        orders.line_items_amount,
        orders.discount_amount,
        orders.subtotal_amount,
        orders.shipping_amount,
        orders.tax_amount,
        orders.total_amount,
        orders.is_tax_included,
        orders.presentment_currency_code,
        orders.presentment_total_amount,
        cast(coalesce(line_totals.line_count, 0) as integer) as line_count,
        cast(coalesce(line_totals.item_quantity, 0) as integer) as item_quantity

    from orders
    left join line_totals on orders.order_id = line_totals.order_id

)

select * from final
