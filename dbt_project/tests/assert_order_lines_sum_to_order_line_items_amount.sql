-- A failure means an order's lines do not add up to the order's own line-items amount: a
-- line is missing from the load (or duplicated), so revenue by SKU disagrees with revenue by
-- order. Compared per order, in the order's currency, exactly.
with

orders as (

    select * from {{ ref('fct_orders') }}

),

line_sums as (

    select
        order_id,
        sum(gross_amount) as gross_amount

    from {{ ref('fct_order_lines') }}
    group by order_id

)

select
    orders.order_id,
    orders.line_items_amount,
    line_sums.gross_amount

from orders
left join line_sums on orders.order_id = line_sums.order_id
where orders.line_items_amount <> coalesce(line_sums.gross_amount, 0)
