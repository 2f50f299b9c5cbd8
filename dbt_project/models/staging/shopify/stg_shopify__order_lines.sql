with

source as (

    select * from {{ source_or_empty('raw_shopify', 'order_line_items') }}

),

renamed as (

    select
        {{ entity_key("'shopify'", 'store_id', 'id') }} as order_line_id,
        {{ entity_key("'shopify'", 'store_id', 'order_id') }} as order_id,
        'shopify' as channel,
        store_id,
        id as external_order_line_id,
        order_id as external_order_id,
        sku,
        product_id as external_product_id,
        variant_id as external_variant_id,
        title as product_title,
        variant_title,
        vendor,
        quantity,
        current_quantity,
        fulfillable_quantity,
        fulfillment_status,
        requires_shipping as is_shipping_required,
        grams as unit_weight_grams,
        currency as currency_code,
        cast(price as decimal(18, 4)) as unit_price_amount,
        cast(discount_amount as decimal(18, 4)) as discount_amount,
        cast(tax_amount as decimal(18, 4)) as tax_amount,
        loaded_at

    from source

)

select * from renamed
