{{ config(materialized='view') }}
-- Each order line's contribution in the reporting currency: its net revenue, its share of
-- the order's shipping charged, payment fees and refunds (allocated by the line's share of
-- the order's net line amount, exactly, with `scale_amount`), and its product cost from the
-- SKU master. Cancelled orders contribute nothing. Carrier costs and import duties paid by
-- the seller come from no loaded source yet, so they are not deducted (DECISIONLOG.md).
-- A view: rpt_margin is its one reader.
with

lines as (

    select * from {{ ref('fct_order_lines') }}

),

orders as (

    select * from {{ ref('fct_orders') }}
    where not is_cancelled

),

order_net as (

    select order_id, sum(net_amount) as order_net_amount
    from lines
    group by order_id

),

products as (

    select sku, unit_cost_amount, cost_currency_code from {{ ref('dim_products') }}

),

order_fees as (

    select order_id, sum(fee_reporting_amount) as fee_reporting_amount
    from {{ ref('fct_payments') }}
    where is_captured and order_id is not null
    group by order_id

),

order_refunds as (

    select order_id, sum(reporting_amount) as refund_reporting_amount
    from {{ ref('fct_refunds') }}
    where order_id is not null
    group by order_id

),

final as (

    select
        lines.order_line_id,
        lines.order_id,
        orders.channel,
        orders.store_id,
        orders.destination_country_code,
        orders.order_local_date,
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
            as product_cost_reporting_amount

    from lines
    inner join orders on lines.order_id = orders.order_id
    inner join order_net on lines.order_id = order_net.order_id
    left join products on lines.sku = products.sku
    left join order_fees on lines.order_id = order_fees.order_id
    left join order_refunds on lines.order_id = order_refunds.order_id
    {{ fx_rate_on('cost_rate', 'products.cost_currency_code', 'orders.order_date') }}

)

select * from final
