with

source as (

    select * from {{ source_or_empty('raw_amazon', 'orders') }}

),

renamed as (

    select
        amazon_order_id as external_order_id,
        'amazon' as channel,
        store_id as seller_account_id,
        marketplace_id,
        sales_channel,
        order_channel,
        seller_order_id,
        buyer_email_hash as customer_email_sha256,
        purchase_date as ordered_at,
        last_update_date as updated_at,
        order_status,
        order_type,
        fulfillment_channel,
        ship_service_level,
        shipment_service_level_category,
        payment_method,
        order_total as total_amount,
        order_total_currency as currency_code,
        number_of_items_shipped as shipped_item_quantity,
        number_of_items_unshipped as unshipped_item_quantity,
        earliest_ship_date as earliest_ship_at,
        latest_ship_date as latest_ship_at,
        earliest_delivery_date as earliest_delivery_at,
        latest_delivery_date as latest_delivery_at,
        is_business_order,
        is_prime,
        is_replacement_order,
        fulfillment_supply_source_id,
        upper(ship_from_country_code) as origin_country_code,
        upper(shipping_country_code) as destination_country_code,
        shipping_state_or_region as destination_province,
        shipping_city as destination_city,
        shipping_postal_code as destination_postal_code,
        loaded_at

    from source

)

select * from renamed
