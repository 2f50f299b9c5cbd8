with

source as (

    select * from {{ source_or_empty('raw_ecb', 'rates') }}

),

renamed as (

    select
        {{ dbt.concat(["cast(rate_date as " ~ dbt.type_string() ~ ")", "':'", 'currency']) }} as fx_rate_id,
        rate_date,
        currency as currency_code,
        cast(rate_per_eur as decimal(18, 6)) as units_per_eur,
        rate_text,
        origin as rate_origin,
        loaded_at

    from source

)

select * from renamed
