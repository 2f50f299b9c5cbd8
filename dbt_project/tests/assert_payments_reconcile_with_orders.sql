-- A failure means money taken from a customer does not match what the order says they owe:
-- a payment is missing or counted twice (Shopify's capture and Stripe's charge for the same
-- money), or matched to the wrong order. Compared per paid order, exactly, in the currency
-- the customer paid in (the presentment currency). Orders with no payment record loaded
-- (Amazon collects its own; a provider not configured) are not judged.
with

orders as (

    select * from {{ ref('fct_orders') }}
    where financial_status in ('paid', 'partially_refunded', 'refunded')

),

payments as (

    select order_id, currency_code, sum(amount) as paid_amount
    from {{ ref('fct_payments') }}
    where is_captured and order_id is not null
    group by order_id, currency_code

)

select
    orders.order_id,
    orders.presentment_currency_code,
    orders.presentment_total_amount,
    payments.currency_code as payment_currency_code,
    payments.paid_amount

from orders
inner join payments on orders.order_id = payments.order_id
where payments.currency_code <> orders.presentment_currency_code
    or payments.paid_amount <> orders.presentment_total_amount
