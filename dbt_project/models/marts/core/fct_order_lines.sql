{{
    config(
        materialized='incremental',
        unique_key='order_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}
-- Incremental by order: a line depends only on its order's row, the order's lines and the
-- FX fixing of its date, all of which rebuild the order in fct_orders (macro
-- `changed_order_ids`), so the lines of every order fct_orders wrote since this table's last
-- build are deleted and inserted again whole.
-- depends_on: {{ ref('fct_orders') }}
{%- set changed_only = 'where order_id in (select order_id from orders)' if is_incremental() else '' %}
with

orders as (

    select order_id, channel, store_id, ordered_at, updated_at, destination_country_code
    from {{ ref('int_orders_unioned') }}
    {% if is_incremental() %}
    where order_id in (
        select order_id from {{ ref('fct_orders') }} where built_at > {{ incremental_since() }}
    )
    {% endif %}

),

order_lines as (

    select * from {{ ref('int_order_lines_unioned') }}
    {{ changed_only }}

),

fx as (

    select * from {{ ref('int_order_fx_rates') }}
    {{ changed_only }}

),

final as (

    select
        order_lines.order_line_id,
        order_lines.order_id,
        orders.channel,
        orders.store_id,
        order_lines.source_system,
        order_lines.external_order_line_id,
        order_lines.sku,
        order_lines.product_title,
        order_lines.variant_title,
        order_lines.quantity,
        order_lines.fulfillable_quantity,
        order_lines.is_shipping_required,
        order_lines.unit_weight_grams,
        orders.ordered_at,
        orders.updated_at as order_updated_at,
        orders.destination_country_code,
        order_lines.currency_code,
        order_lines.unit_price_amount,
        order_lines.gross_amount,
        order_lines.discount_amount,
        cast(order_lines.gross_amount - order_lines.discount_amount as decimal(18, 4)) as net_amount,
        order_lines.tax_amount,
        fx.reporting_currency_code,
        {{ convert_amount('order_lines.gross_amount - order_lines.discount_amount', 'fx.currency_units_per_eur', 'fx.reporting_units_per_eur') }}
            as net_reporting_amount,
        {{ built_at() }} as built_at

    from order_lines
    inner join orders on order_lines.order_id = orders.order_id
    left join fx on order_lines.order_id = fx.order_id

)

select * from final
