with

source as (

    select * from {{ source_or_empty('raw_shopify', 'transactions') }}

),

renamed as (

    select
        {{ entity_key("'shopify'", 'store_id', 'id') }} as transaction_id,
        {{ entity_key("'shopify'", 'store_id', 'order_id') }} as order_id,
        'shopify' as channel,
        store_id,
        id as external_transaction_id,
        order_id as external_order_id,
        parent_id as external_parent_transaction_id,
        kind as transaction_kind,
        gateway,
        status as transaction_status,
        message,
        error_code,
        created_at,
        processed_at,
        currency as currency_code,
        amount,
        payment_id,
        authorization_key,
        is_test,
        is_manual_payment_gateway,
        credit_card_company,
        payment_method_name,
        loaded_at

    from source

)

select * from renamed
