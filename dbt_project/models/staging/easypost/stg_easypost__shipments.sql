with

source as (

    select * from {{ source_or_empty('raw_easypost', 'shipments') }}

),

renamed as (

    select
        id as label_id,
        -- The channel's own order id, as label apps fill `reference`; matched to Tradelane's
        -- order key in fct_shipping_costs.
        reference as external_order_id,
        tracking_code as tracking_number,
        carrier,
        service as carrier_service,
        status as label_status,
        created_at as purchased_at,
        updated_at,
        from_country_code as origin_country_code,
        to_country_code as destination_country_code,
        incoterm,
        fee_currency as shipping_cost_currency_code,
        postage_amount,
        label_fee_amount,
        cast(postage_amount + label_fee_amount + insurance_fee_amount + other_fee_amount as decimal(18, 4))
            as shipping_cost_amount,
        duties_currency as duties_currency_code,
        customs_value_amount,
        duty_amount,
        import_tax_amount,
        cast(duty_amount + import_tax_amount as decimal(18, 4)) as duties_amount,
        duties_billed_at,
        loaded_at

    from source

)

select * from renamed
