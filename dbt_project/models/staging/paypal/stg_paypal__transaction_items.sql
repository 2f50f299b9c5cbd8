with

source as (

    select * from {{ source_or_empty('raw_paypal', 'transaction_items') }}

),

renamed as (

    select
        {{ dbt.concat(['transaction_id', "':'", "cast(line_number as " ~ dbt.type_string() ~ ")"]) }} as transaction_item_id,
        transaction_id,
        line_number,
        item_code as sku,
        item_name,
        invoice_number,
        quantity,
        currency as currency_code,
        unit_price as unit_price_amount,
        item_amount,
        tax_amount,
        total_item_amount,
        loaded_at

    from source

)

select * from renamed
