with

source as (

    select * from {{ source_or_empty('raw_wms', 'warehouses') }}

),

renamed as (

    select
        code as warehouse_code,
        name as warehouse_name,
        city,
        upper(country_code) as country_code,
        latitude,
        longitude,
        timezone,
        loaded_at

    from source

)

select * from renamed
