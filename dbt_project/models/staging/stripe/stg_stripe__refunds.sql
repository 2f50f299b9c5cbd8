with

source as (

    select * from {{ source_or_empty('raw_stripe', 'refunds') }}

),

renamed as (

    select
        id as refund_id,
        charge_id,
        order_id as external_order_id,
        created_at,
        upper(currency) as currency_code,
        amount,
        status as refund_status,
        reason,
        failure_reason,
        balance_transaction_id,
        loaded_at

    from source

)

select * from renamed
