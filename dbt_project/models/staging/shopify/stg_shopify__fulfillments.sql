with

source as (

    select * from {{ source_or_empty('raw_shopify', 'fulfillments') }}

),

renamed as (

    select
        {{ entity_key("'shopify'", 'store_id', 'id') }} as fulfillment_id,
        {{ entity_key("'shopify'", 'store_id', 'order_id') }} as order_id,
        'shopify' as channel,
        store_id,
        id as external_fulfillment_id,
        order_id as external_order_id,
        name as fulfillment_name,
        status as fulfillment_status,
        shipment_status,
        service,
        created_at,
        updated_at,
        location_id as external_location_id,
        upper(origin_country_code) as origin_country_code,
        tracking_company,
        tracking_number,
        tracking_url,
        tracking_number_count,
        line_item_count as line_count,
        total_quantity,
        loaded_at

    from source

)

select * from renamed
