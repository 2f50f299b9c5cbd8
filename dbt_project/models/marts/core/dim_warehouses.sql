with

warehouses as (

    select * from {{ ref('stg_wms__warehouses') }}

),

final as (

    select
        warehouse_code,
        warehouse_name,
        city,
        country_code,
        latitude,
        longitude,
        timezone

    from warehouses

)

select * from final
