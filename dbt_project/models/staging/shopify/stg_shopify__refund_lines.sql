with

source as (

    select * from {{ source_or_empty('raw_shopify', 'refund_line_items') }}

),

renamed as (

    select
        {{ entity_key("'shopify'", 'store_id', 'id') }} as refund_line_id,
        {{ entity_key("'shopify'", 'store_id', 'refund_id') }} as refund_id,
        {{ entity_key("'shopify'", 'store_id', 'order_id') }} as order_id,
        {{ entity_key("'shopify'", 'store_id', 'line_item_id') }} as order_line_id,
        'shopify' as channel,
        store_id,
        refund_created_at,
        sku,
        quantity,
        restock_type,
        location_id as external_location_id,
        currency as currency_code,
        subtotal as subtotal_amount,
        total_tax as tax_amount,
        presentment_currency as presentment_currency_code,
        presentment_subtotal as presentment_subtotal_amount,
        presentment_total_tax as presentment_tax_amount,
        loaded_at

    from source

)

select * from renamed
