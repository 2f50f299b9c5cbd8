with

source as (

    select * from {{ source_or_empty('raw_files', 'order_lines') }}

),

renamed as (

    select
        channel,
        store_id as source_store_id,
        external_order_id,
        line_number,
        external_line_id,
        sku,
        title as product_title,
        channel_line_status,
        quantity,
        currency as currency_code,
        unit_price as unit_price_amount,
        line_price as gross_amount,
        discount as discount_amount,
        tax as tax_amount,
        source_file,
        source_row,
        loaded_at

    from source

)

select * from renamed
