with

source as (

    select * from {{ source_or_empty('raw_shopify', 'fulfillment_tracking_numbers') }}

),

renamed as (

    select
        {{ dbt.concat([entity_key("'shopify'", 'store_id', 'fulfillment_id'), "':'", "cast(tracking_position as " ~ dbt.type_string() ~ ")"]) }}
            as fulfillment_tracking_number_id,
        {{ entity_key("'shopify'", 'store_id', 'fulfillment_id') }} as fulfillment_id,
        {{ entity_key("'shopify'", 'store_id', 'order_id') }} as order_id,
        'shopify' as channel,
        store_id,
        tracking_position,
        tracking_company,
        tracking_number,
        tracking_url,
        fulfillment_updated_at,
        loaded_at

    from source

)

select * from renamed
