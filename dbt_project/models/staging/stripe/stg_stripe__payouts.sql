with

source as (

    select * from {{ source_or_empty('raw_stripe', 'payouts') }}

),

renamed as (

    select
        id as payout_id,
        'stripe' as payment_provider,
        created_at,
        arrival_date,
        upper(currency) as currency_code,
        amount,
        status as payout_status,
        type as payout_type,
        method as payout_method,
        automatic as is_automatic,
        balance_transaction_id,
        failure_code,
        reconciliation_status,
        loaded_at

    from source

)

select * from renamed
