-- One row per order line from every channel and source, keyed like its order. A line whose
-- order came from the API is taken from the API too (never half from an export).
with

orders as (

    select order_id, channel, store_id, source_system, external_order_id
    from {{ ref('int_orders_unioned') }}

),

shopify_lines as (

    select
        orders.order_id,
        {{ entity_key("'shopify'", 'orders.store_id', 'lines.external_order_line_id') }} as order_line_id,
        cast(lines.external_order_line_id as {{ dbt.type_string() }}) as external_order_line_id,
        'shopify_api' as source_system,
        lines.sku,
        lines.product_title,
        lines.variant_title,
        lines.quantity,
        lines.fulfillable_quantity,
        lines.is_shipping_required,
        lines.unit_weight_grams,
        lines.currency_code,
        lines.unit_price_amount,
        cast(lines.unit_price_amount * lines.quantity as decimal(18, 4)) as gross_amount,
        lines.discount_amount,
        lines.tax_amount,
        lines.loaded_at
    from {{ ref('stg_shopify__order_lines') }} as lines
    inner join orders
        on orders.source_system = 'shopify_api'
        and orders.external_order_id = cast(lines.external_order_id as {{ dbt.type_string() }})

),

amazon_lines as (

    select
        orders.order_id,
        {{ entity_key("'amazon'", 'orders.store_id', 'items.external_order_line_id') }} as order_line_id,
        items.external_order_line_id,
        'amazon_sp_api' as source_system,
        items.sku,
        items.product_title,
        cast(null as {{ dbt.type_string() }}) as variant_title,
        items.quantity,
        greatest(items.quantity - coalesce(items.shipped_quantity, 0), 0) as fulfillable_quantity,
        true as is_shipping_required,
        cast(null as bigint) as unit_weight_grams,
        items.currency_code,
        -- ItemPrice is the whole line; the unit price is derived and exact when it divides.
        cast(items.gross_amount / nullif(items.quantity, 0) as decimal(18, 4)) as unit_price_amount,
        coalesce(items.gross_amount, 0) as gross_amount,
        coalesce(items.discount_amount, 0) as discount_amount,
        coalesce(items.tax_amount, 0) as tax_amount,
        items.loaded_at
    from {{ ref('stg_amazon__order_items') }} as items
    inner join orders
        on orders.source_system = 'amazon_sp_api'
        and orders.external_order_id = items.external_order_id

),

file_lines as (

    select
        orders.order_id,
        {{ dbt.concat(['orders.order_id', "':'", "cast(lines.line_number as " ~ dbt.type_string() ~ ")"]) }} as order_line_id,
        lines.external_line_id as external_order_line_id,
        'file_import' as source_system,
        lines.sku,
        lines.product_title,
        cast(null as {{ dbt.type_string() }}) as variant_title,
        lines.quantity,
        cast(null as bigint) as fulfillable_quantity,
        true as is_shipping_required,
        cast(null as bigint) as unit_weight_grams,
        lines.currency_code,
        lines.unit_price_amount,
        coalesce(lines.gross_amount, 0) as gross_amount,
        coalesce(lines.discount_amount, 0) as discount_amount,
        coalesce(lines.tax_amount, 0) as tax_amount,
        lines.loaded_at
    from {{ ref('stg_files__order_lines') }} as lines
    inner join orders
        on orders.source_system = 'file_import'
        and orders.channel = lines.channel
        and orders.external_order_id = lines.external_order_id
    inner join {{ ref('int_stores_mapped') }} as stores
        on stores.source_system = 'file_import'
        and stores.channel = lines.channel
        and stores.source_store_id = lines.source_store_id
        and stores.store_id = orders.store_id

),

unversioned as (

    select * from shopify_lines
    union all
    select * from amazon_lines
    union all
    select * from file_lines

),

final as (

    {{ with_change_time('unversioned', 'order_line_id') }}

)

select * from final
