-- A failure means the mart gives back more than was ever taken for an order: a refund is
-- counted twice (the channel's refund and the processor's for the same money) or matched to
-- the wrong order, and refund rates and margins would be overstated. Per order and currency.
with

paid as (

    select order_id, currency_code, sum(amount) as paid_amount
    from {{ ref('fct_payments') }}
    where is_captured and order_id is not null
    group by order_id, currency_code

),

refunded as (

    select order_id, currency_code, sum(amount) as refunded_amount
    from {{ ref('fct_refunds') }}
    where order_id is not null
    group by order_id, currency_code

)

select refunded.*, paid.paid_amount
from refunded
inner join paid
    on refunded.order_id = paid.order_id
    and refunded.currency_code = paid.currency_code
where refunded.refunded_amount > paid.paid_amount
