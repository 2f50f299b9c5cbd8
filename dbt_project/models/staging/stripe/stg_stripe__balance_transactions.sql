with

source as (

    select * from {{ source_or_empty('raw_stripe', 'balance_transactions') }}

),

renamed as (

    select
        id as balance_transaction_id,
        created_at,
        available_on as available_at,
        type as balance_transaction_type,
        reporting_category,
        status as balance_transaction_status,
        source_id,
        description,
        upper(currency) as currency_code,
        amount,
        fee as fee_amount,
        net as net_amount,
        fee_details,
        loaded_at

    from source

)

select * from renamed
