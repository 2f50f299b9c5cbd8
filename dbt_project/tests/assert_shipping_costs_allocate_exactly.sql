-- A failure means an order's carrier costs do not reach its lines to the cent: the margin by
-- country, channel and SKU would deduct more or less postage or duty than the seller paid
-- (a cent lost or invented in the allocation, or a label matched to an order without lines).
-- Per order, cost kind and currency: the lines' shares against the labels' sum.
with

labels as (

    select order_id, 'shipping' as cost_kind, shipping_cost_currency_code as currency_code,
        sum(shipping_cost_amount) as paid_amount
    from {{ ref('fct_shipping_costs') }}
    where order_id is not null
    group by order_id, shipping_cost_currency_code
    union all
    select order_id, 'duties' as cost_kind, duties_currency_code as currency_code,
        sum(duties_amount) as paid_amount
    from {{ ref('fct_shipping_costs') }}
    where order_id is not null and duties_amount is not null
    group by order_id, duties_currency_code

),

allocated as (

    select order_id, cost_kind, currency_code, sum(allocated_amount) as allocated_amount
    from {{ ref('int_order_line_shipping_costs') }}
    group by order_id, cost_kind, currency_code

)

select labels.*, allocated.allocated_amount
from labels
left join allocated
    on labels.order_id = allocated.order_id
    and labels.cost_kind = allocated.cost_kind
    and labels.currency_code = allocated.currency_code
where allocated.allocated_amount is null or allocated.allocated_amount <> labels.paid_amount
