with

order_lines as (

    select * from {{ ref('stg_shopify__order_lines') }}

),

final as (

    select
        order_line_id,
        order_id,
        channel,
        store_id,
        external_order_line_id,
        sku,
        product_title,
        variant_title,
        quantity,
        fulfillable_quantity,
        is_shipping_required,
        unit_weight_grams,
        currency_code,
        unit_price_amount,
        cast(unit_price_amount * quantity as decimal(18, 4)) as gross_amount,
        discount_amount,
        cast(unit_price_amount * quantity - discount_amount as decimal(18, 4)) as net_amount,
        tax_amount

    from order_lines

)

select * from final
