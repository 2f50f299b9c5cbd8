{{
    config(
        materialized='incremental',
        unique_key='order_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}
-- Each order line's contribution in the reporting currency: its net revenue, its share of
-- the order's shipping charged, payment fees and refunds (allocated by the line's share of
-- the order's net line amount, exactly, with `scale_amount`), its product cost from the SKU
-- master, and its share of what the seller paid carriers: label postage and fees, and the
-- duties and import taxes of DDP parcels (int_order_line_shipping_costs, allocated to the cent
-- in their own currency, converted at the order date's ECB rate like product cost). Lines of
-- cancelled orders are kept, flagged, and contribute nothing to rpt_margin (DECISIONLOG.md).
-- Incremental by order, like fct_orders: every order that it, a line, a payment, a refund, a
-- parcel or its FX fixing touched since the last build (macro `changed_order_ids`), every order
-- with a label loaded since then (bought, or its duties billed: `loaded_at`), and every
-- order with a line whose SKU's cost in the master is no longer the one used, is rebuilt whole.
-- Kept as rows (not only summed in rpt_margin) so a new day converts its own lines, not a
-- million others: the conversions are exact integer arithmetic and cost 20 s at a million
-- orders when recomputed each build.
-- depends_on: {{ ref('int_orders_unioned') }}, {{ ref('int_order_lines_unioned') }}, {{ ref('int_fx_rates_daily') }}, {{ ref('int_payments_matched') }}, {{ ref('int_refunds_unioned') }}, {{ ref('int_shipments') }}, {{ ref('fct_shipping_costs') }}, {{ ref('stg_easypost__shipments') }}
{%- set changed_only = 'and order_id in (select order_id from changed)' if is_incremental() else '' %}
with

products as (

    select sku, unit_cost_amount, cost_currency_code from {{ ref('dim_products') }}

),

{% if is_incremental() %}
changed as (

    {{ changed_order_ids(incremental_since()) }}
    union
    select costs.order_id
    from {{ ref('fct_shipping_costs') }} as costs
    inner join {{ ref('stg_easypost__shipments') }} as labels on costs.label_id = labels.label_id
    where costs.order_id is not null and labels.loaded_at > {{ incremental_since() }}
    union
    select built.order_id
    from {{ this }} as built
    left join products on built.sku = products.sku
    where built.unit_cost_amount is distinct from products.unit_cost_amount
        or built.cost_currency_code is distinct from products.cost_currency_code

),
{% endif %}

lines as (

    select * from {{ ref('fct_order_lines') }}
    where order_id is not null {{ changed_only }}

),

orders as (

    select * from {{ ref('fct_orders') }}
    where order_id is not null {{ changed_only }}

),

order_net as (

    select order_id, sum(net_amount) as order_net_amount
    from lines
    group by order_id

),

order_fees as (

    select order_id, sum(fee_reporting_amount) as fee_reporting_amount
    from {{ ref('fct_payments') }}
    where is_captured and order_id is not null {{ changed_only }}
    group by order_id

),

order_refunds as (

    select order_id, sum(reporting_amount) as refund_reporting_amount
    from {{ ref('fct_refunds') }}
    where order_id is not null {{ changed_only }}
    group by order_id

),

carrier_costs as (

    select
        allocated.order_line_id,
        sum(case when allocated.cost_kind = 'shipping' then
            {{ convert_amount('allocated.allocated_amount', 'cost_fx.units_per_eur', 'orders.reporting_units_per_eur') }}
        end) as shipping_cost_reporting_amount,
        sum(case when allocated.cost_kind = 'duties' then
            {{ convert_amount('allocated.allocated_amount', 'cost_fx.units_per_eur', 'orders.reporting_units_per_eur') }}
        end) as duties_reporting_amount
    from {{ ref('int_order_line_shipping_costs') }} as allocated
    inner join orders on allocated.order_id = orders.order_id
    {{ fx_rate_on('cost_fx', 'allocated.currency_code', 'orders.order_date') }}
    group by allocated.order_line_id

),

final as (

    select
        lines.order_line_id,
        lines.order_id,
        orders.channel,
        orders.store_id,
        orders.destination_country_code,
        orders.order_local_date,
        orders.updated_at as order_updated_at,
        orders.is_cancelled,
        lines.sku,
        lines.quantity,
        orders.reporting_currency_code,
        lines.net_reporting_amount,
        {{ scale_amount(
            convert_amount('orders.shipping_amount', 'orders.currency_units_per_eur', 'orders.reporting_units_per_eur'),
            'lines.net_amount', 'order_net.order_net_amount') }} as shipping_reporting_amount,
        coalesce({{ scale_amount('order_fees.fee_reporting_amount', 'lines.net_amount', 'order_net.order_net_amount') }}, 0)
            as payment_fee_reporting_amount,
        coalesce({{ scale_amount('order_refunds.refund_reporting_amount', 'lines.net_amount', 'order_net.order_net_amount') }}, 0)
            as refund_reporting_amount,
        {{ convert_amount('products.unit_cost_amount * lines.quantity', 'cost_rate.units_per_eur', 'orders.reporting_units_per_eur') }}
            as product_cost_reporting_amount,
        coalesce(carrier_costs.shipping_cost_reporting_amount, 0) as shipping_cost_reporting_amount,
        coalesce(carrier_costs.duties_reporting_amount, 0) as duties_reporting_amount,
        -- The cost used, so a change in the SKU master rebuilds the lines it priced.
        products.unit_cost_amount,
        products.cost_currency_code,
        {{ built_at() }} as built_at

    from lines
    inner join orders on lines.order_id = orders.order_id
    inner join order_net on lines.order_id = order_net.order_id
    left join products on lines.sku = products.sku
    left join order_fees on lines.order_id = order_fees.order_id
    left join order_refunds on lines.order_id = order_refunds.order_id
    left join carrier_costs on lines.order_line_id = carrier_costs.order_line_id
    {{ fx_rate_on('cost_rate', 'products.cost_currency_code', 'orders.order_date') }}

)

select * from final
