with

source as (

    select * from {{ source_or_empty('raw_files', 'orders') }}

),

renamed as (

    select
        channel,
        store_id as source_store_id,
        external_order_id,
        order_name,
        order_number,
        customer_id as external_customer_id,
        customer_email_sha256,
        ordered_at,
        ordered_at_utc_offset_minutes,
        updated_at,
        cancelled_at,
        is_cancelled,
        channel_order_status,
        financial_status,
        fulfillment_status,
        currency as currency_code,
        taxes_included as is_tax_included,
        line_items_total as line_items_amount,
        discounts as discount_amount,
        subtotal as subtotal_amount,
        shipping as shipping_amount,
        other_charges as other_charges_amount,
        tax as tax_amount,
        total as total_amount,
        upper(destination_country_code) as destination_country_code,
        destination_province,
        destination_city,
        destination_postal_code,
        line_count,
        source_file,
        source_row,
        loaded_at

    from source

)

select * from renamed
