with

source as (

    select * from {{ source_or_empty('raw_tracking', 'trackings') }}

),

renamed as (

    select
        tracking_id,
        tracking_number,
        slug as carrier_slug,
        -- The channel's own order id (Shopify's numeric id, Amazon's 3-7-7 id), as the seller
        -- registered the parcel; matched to Tradelane's order key in intermediate.
        order_id as external_order_id,
        order_number as order_name,
        tag as tracking_tag,
        subtag as tracking_subtag,
        subtag_message,
        is_active,
        is_return_to_sender,
        created_at,
        updated_at,
        last_updated_at,
        origin_country_iso3,
        destination_country_iso3,
        shipment_type,
        shipment_package_count,
        signed_by,
        transit_time_days,
        expected_delivery_date,
        order_promised_delivery_date as promised_delivery_date,
        latest_estimated_delivery_date,
        first_attempted_at,
        delivery_type,
        checkpoint_count,
        loaded_at

    from source

)

select * from renamed
