with

source as (

    select * from {{ source_or_empty('raw_shopify', 'refunds') }}

),

renamed as (

    select
        {{ entity_key("'shopify'", 'store_id', 'id') }} as refund_id,
        {{ entity_key("'shopify'", 'store_id', 'order_id') }} as order_id,
        'shopify' as channel,
        store_id,
        id as external_refund_id,
        order_id as external_order_id,
        return_id as external_return_id,
        created_at,
        processed_at,
        note,
        restock as is_restocked,
        transactions_currency as refunded_currency_code,
        transactions_amount as refunded_amount,
        currency as currency_code,
        line_items_subtotal as line_items_amount,
        line_items_tax as line_items_tax_amount,
        shipping_amount,
        shipping_tax as shipping_tax_amount,
        order_adjustments_amount,
        duties_amount,
        additional_fees_amount,
        refund_line_item_count as refund_line_count,
        loaded_at

    from source

)

select * from renamed
