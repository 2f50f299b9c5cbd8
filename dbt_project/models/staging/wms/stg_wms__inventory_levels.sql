with

source as (

    select * from {{ source_or_empty('raw_wms', 'inventory_levels') }}

),

renamed as (

    select
        {{ dbt.concat(['warehouse_code', "':'", 'sku']) }} as inventory_level_id,
        warehouse_code,
        sku,
        on_hand as on_hand_quantity,
        reserved as reserved_quantity,
        available as available_quantity,
        updated_at,
        loaded_at

    from source

)

select * from renamed
