with

source as (

    select * from {{ source_or_empty('raw_amazon', 'order_items') }}

),

renamed as (

    select
        amazon_order_id as external_order_id,
        -- An order holds one item per SKU; the All Orders report (the connector's default way
        -- of reading items) names items only by order and SKU, so that is the line's id either
        -- way. The OrderItemId is kept where getOrderItems served it.
        {{ dbt.concat(['amazon_order_id', "':'", 'seller_sku']) }} as external_order_line_id,
        order_item_id as amazon_order_item_id,
        'amazon' as channel,
        store_id as seller_account_id,
        order_last_update_date,
        asin,
        seller_sku as sku,
        title as product_title,
        quantity_ordered as quantity,
        quantity_shipped as shipped_quantity,
        -- Amazon writes each money field with its own currency; a canceled item has none, so
        -- the line takes the first currency any of its amounts carries.
        coalesce(item_price_currency, item_tax_currency, shipping_price_currency, promotion_discount_currency)
            as currency_code,
        item_price as gross_amount,
        item_tax as tax_amount,
        shipping_price as shipping_amount,
        shipping_tax as shipping_tax_amount,
        shipping_discount as shipping_discount_amount,
        shipping_discount_tax as shipping_discount_tax_amount,
        promotion_discount as discount_amount,
        promotion_discount_tax as discount_tax_amount,
        cod_fee as cod_fee_amount,
        gift_wrap_price as gift_wrap_amount,
        gift_wrap_tax as gift_wrap_tax_amount,
        is_gift,
        is_buyer_requested_cancel,
        buyer_cancel_reason,
        tax_collection_model,
        tax_collection_responsible_party,
        loaded_at

    from source

)

select * from renamed
