with

source as (

    select * from {{ source_or_empty('raw_shopify', 'payouts') }}

),

renamed as (

    select
        {{ entity_key("'shopify'", 'store_id', 'id') }} as payout_id,
        'shopify_payments' as payment_provider,
        store_id,
        id as external_payout_id,
        status as payout_status,
        payout_date,
        currency as currency_code,
        amount,
        charges_gross_amount,
        charges_fee_amount,
        refunds_gross_amount,
        refunds_fee_amount,
        adjustments_gross_amount,
        adjustments_fee_amount,
        reserved_funds_gross_amount,
        reserved_funds_fee_amount,
        retried_payouts_gross_amount,
        retried_payouts_fee_amount,
        loaded_at

    from source

)

select * from renamed
