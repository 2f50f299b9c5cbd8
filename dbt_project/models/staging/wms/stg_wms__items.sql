with

source as (

    select * from {{ source_or_empty('raw_wms', 'items') }}

),

renamed as (

    select
        sku,
        name as product_name,
        hs_code,
        weight_g as unit_weight_grams,
        cast(unit_cost as decimal(18, 4)) as unit_cost_amount,
        cost_currency as cost_currency_code,
        upper(origin_country_code) as origin_country_code,
        loaded_at

    from source

)

select * from renamed
