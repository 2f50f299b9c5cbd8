with

source as (

    select * from {{ source_or_empty('raw_shopify', 'orders') }}

),

renamed as (

    select
        {{ entity_key("'shopify'", 'store_id', 'id') }} as order_id,
        'shopify' as channel,
        store_id,
        id as external_order_id,
        name as order_name,
        customer_id,
        email as customer_email,
        created_at as ordered_at,
        created_at_utc_offset_minutes as ordered_at_utc_offset_minutes,
        updated_at,
        processed_at,
        cancelled_at,
        closed_at,
        cancel_reason,
        financial_status,
        fulfillment_status,
        source_name,
        is_test,
        taxes_included as is_tax_included,
        upper(shipping_country_code) as destination_country_code,
        shipping_province_code as destination_province_code,
        shipping_city as destination_city,
        shipping_zip as destination_postal_code,
        shipping_latitude as destination_latitude,
        shipping_longitude as destination_longitude,
        currency as currency_code,
        cast(total_line_items_price as decimal(18, 4)) as line_items_amount,
        cast(total_discounts as decimal(18, 4)) as discount_amount,
        cast(subtotal_price as decimal(18, 4)) as subtotal_amount,
        cast(total_shipping_price as decimal(18, 4)) as shipping_amount,
        cast(total_tax as decimal(18, 4)) as tax_amount,
        cast(total_price as decimal(18, 4)) as total_amount,
        cast(current_total_price as decimal(18, 4)) as current_total_amount,
        presentment_currency as presentment_currency_code,
        cast(presentment_total_price as decimal(18, 4)) as presentment_total_amount,
        loaded_at

    from source

)

select * from renamed
