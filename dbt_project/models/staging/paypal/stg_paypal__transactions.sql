with

source as (

    select * from {{ source_or_empty('raw_paypal', 'transactions') }}

),

renamed as (

    select
        transaction_id,
        paypal_account_id,
        -- The seller's cart puts the channel's order id in PayPal's custom field.
        custom_field as external_order_id,
        invoice_id,
        event_code,
        status as transaction_status_code,
        case status
            when 'S' then 'success'
            when 'P' then 'pending'
            when 'V' then 'reversed'
            when 'F' then 'partially_refunded'
            when 'D' then 'denied'
        end as transaction_status,
        initiated_at,
        updated_at,
        currency as currency_code,
        gross_amount,
        fee_currency as fee_currency_code,
        fee_amount,
        net_amount,
        shipping_amount,
        shipping_discount_amount,
        sales_tax_amount,
        transaction_subject,
        paypal_reference_id,
        paypal_reference_id_type,
        protection_eligibility,
        payer_account_id,
        upper(payer_country_code) as payer_country_code,
        upper(shipping_country_code) as shipping_country_code,
        item_count,
        loaded_at

    from source

)

select * from renamed
