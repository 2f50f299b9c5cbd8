{{
    config(
        materialized='incremental',
        unique_key='inventory_snapshot_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}
-- Stock per warehouse and SKU at the end of each seller-local day, kept from build to build:
-- the WMS only tells the current level, so history exists only because each build appends
-- today's reading (and replaces it when the day is built again). A full refresh therefore
-- starts history over from today; see DECISIONLOG.md.
with

levels as (

    select * from {{ ref('stg_wms__inventory_levels') }}

),

final as (

    select
        {{ dbt.concat([dbt.cast(local_date(dbt.current_timestamp()), dbt.type_string()), "':'", 'inventory_level_id']) }}
            as inventory_snapshot_id,
        {{ local_date(dbt.current_timestamp()) }} as snapshot_date,
        warehouse_code,
        sku,
        on_hand_quantity,
        reserved_quantity,
        available_quantity,
        available_quantity > 0 as is_in_stock,
        updated_at as level_updated_at,
        {{ built_at() }} as built_at

    from levels

)

select * from final
