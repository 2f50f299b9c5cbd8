with

source as (

    select * from {{ source_or_empty('raw_stripe', 'charges') }}

),

renamed as (

    select
        id as charge_id,
        order_id as external_order_id,
        order_name,
        created_at,
        upper(currency) as currency_code,
        amount,
        amount_captured as captured_amount,
        amount_refunded as refunded_amount,
        status as charge_status,
        paid as is_paid,
        captured as is_captured,
        refunded as is_refunded,
        disputed as is_disputed,
        livemode as is_live,
        balance_transaction_id,
        payment_intent_id,
        customer_id as external_customer_id,
        failure_code,
        failure_message,
        outcome_type,
        risk_level,
        risk_score,
        payment_method_type,
        card_brand,
        upper(card_country_code) as card_country_code,
        wallet_type,
        upper(billing_country_code) as billing_country_code,
        loaded_at

    from source

)

select * from renamed
