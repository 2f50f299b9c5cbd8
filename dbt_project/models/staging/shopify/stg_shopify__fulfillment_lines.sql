with

source as (

    select * from {{ source_or_empty('raw_shopify', 'fulfillment_line_items') }}

),

renamed as (

    select
        {{ dbt.concat([entity_key("'shopify'", 'store_id', 'fulfillment_id'), "':'", "cast(line_item_id as " ~ dbt.type_string() ~ ")"]) }}
            as fulfillment_line_id,
        {{ entity_key("'shopify'", 'store_id', 'fulfillment_id') }} as fulfillment_id,
        {{ entity_key("'shopify'", 'store_id', 'order_id') }} as order_id,
        {{ entity_key("'shopify'", 'store_id', 'line_item_id') }} as order_line_id,
        'shopify' as channel,
        store_id,
        sku,
        quantity,
        currency as currency_code,
        price as unit_price_amount,
        fulfillment_updated_at,
        loaded_at

    from source

)

select * from renamed
