with

levels as (

    select * from {{ ref('stg_wms__inventory_levels') }}

),

final as (

    select
        inventory_level_id,
        warehouse_code,
        sku,
        on_hand_quantity,
        reserved_quantity,
        available_quantity,
        available_quantity > 0 as is_in_stock,
        updated_at

    from levels

)

select * from final
