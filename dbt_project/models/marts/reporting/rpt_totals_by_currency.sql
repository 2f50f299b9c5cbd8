-- Mart totals per channel, store and currency, exactly as the facts hold them: what a
-- reconciliation against a source or ledger compares (`tradelane reconcile --layer mart`).
-- Never sums across currencies.
with

orders as (

    select
        channel,
        store_id,
        currency_code,
        count(*) as order_count,
        sum(case when is_cancelled then 0 else 1 end) as open_order_count,
        sum(total_amount) as total_amount,
        sum(case when is_cancelled then 0 else total_amount end) as non_cancelled_total_amount,
        sum(tax_amount) as tax_amount,
        sum(shipping_amount) as shipping_amount,
        sum(discount_amount) as discount_amount
    from {{ ref('fct_orders') }}
    group by channel, store_id, currency_code

),

lines as (

    select channel, store_id, currency_code, count(*) as line_count, sum(gross_amount) as line_gross_amount
    from {{ ref('fct_order_lines') }}
    group by channel, store_id, currency_code

),

final as (

    select
        orders.*,
        coalesce(lines.line_count, 0) as line_count,
        coalesce(lines.line_gross_amount, 0) as line_gross_amount
    from orders
    left join lines
        on orders.channel = lines.channel
        and orders.store_id = lines.store_id
        and orders.currency_code = lines.currency_code

)

select * from final
