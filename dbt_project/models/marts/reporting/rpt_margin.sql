-- Margin after payment fees, refunds, carrier postage and import duties, in the reporting
-- currency, by destination country, channel and SKU. Sum rows for any coarser grain (a
-- country's margin is the sum over its SKUs): every amount is additive. Carrier costs are the
-- labels' postage and fees and the DDP duties and import taxes the seller paid
-- (fct_shipping_costs), allocated to lines in int_order_line_shipping_costs.
with

lines as (

    select * from {{ ref('int_order_line_margins') }}
    where not is_cancelled

),

final as (

    select
        destination_country_code,
        channel,
        sku,
        reporting_currency_code,
        count(distinct order_id) as order_count,
        sum(quantity) as units_sold,
        sum(net_reporting_amount) as net_revenue_reporting_amount,
        sum(coalesce(shipping_reporting_amount, 0)) as shipping_revenue_reporting_amount,
        sum(product_cost_reporting_amount) as product_cost_reporting_amount,
        sum(payment_fee_reporting_amount) as payment_fee_reporting_amount,
        sum(refund_reporting_amount) as refund_reporting_amount,
        sum(shipping_cost_reporting_amount) as shipping_cost_reporting_amount,
        sum(duties_reporting_amount) as duties_reporting_amount,
        sum(
            net_reporting_amount + coalesce(shipping_reporting_amount, 0)
            - coalesce(product_cost_reporting_amount, 0) - payment_fee_reporting_amount - refund_reporting_amount
            - shipping_cost_reporting_amount - duties_reporting_amount
        ) as margin_reporting_amount,
        sum(case when product_cost_reporting_amount is null then 1 else 0 end) as lines_without_cost

    from lines
    group by destination_country_code, channel, sku, reporting_currency_code

)

select * from final
