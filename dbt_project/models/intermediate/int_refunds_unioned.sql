-- Every refund, matched to its order. The channel's refunds come first (Shopify's say what
-- was refunded: lines, shipping, duties, restocking); a processor refund (Stripe refund,
-- PayPal T1107) is added only for an order with no channel refund loaded, so a refund is
-- never counted twice. Amounts are positive money given back, in the refund's currency
-- (the currency the customer paid in).
with

orders as (

    select * from {{ ref('int_orders_by_external_id') }}

),

shopify as (

    select
        {{ dbt.concat(["'shopify:'", 'refund_id']) }} as refund_id,
        'shopify' as refund_source,
        cast(external_refund_id as {{ dbt.type_string() }}) as external_refund_id,
        cast(external_order_id as {{ dbt.type_string() }}) as external_order_id,
        coalesce(processed_at, created_at) as refunded_at,
        'succeeded' as refund_status,
        note as reason,
        coalesce(refunded_currency_code, currency_code) as currency_code,
        refunded_amount as amount,
        line_items_amount,
        line_items_tax_amount,
        shipping_amount,
        shipping_tax_amount,
        duties_amount,
        order_adjustments_amount,
        is_restocked,
        external_return_id is not null as has_return,
        loaded_at
    from {{ ref('stg_shopify__refunds') }}

),

stripe as (

    select
        {{ dbt.concat(["'stripe:'", 'refund_id']) }} as refund_id,
        'stripe' as refund_source,
        refund_id as external_refund_id,
        external_order_id,
        created_at as refunded_at,
        refund_status,
        reason,
        currency_code,
        amount,
        cast(null as decimal(18, 4)) as line_items_amount,
        cast(null as decimal(18, 4)) as line_items_tax_amount,
        cast(null as decimal(18, 4)) as shipping_amount,
        cast(null as decimal(18, 4)) as shipping_tax_amount,
        cast(null as decimal(18, 4)) as duties_amount,
        cast(null as decimal(18, 4)) as order_adjustments_amount,
        cast(null as boolean) as is_restocked,
        cast(null as boolean) as has_return,
        loaded_at
    from {{ ref('stg_stripe__refunds') }}

),

paypal as (

    select
        {{ dbt.concat(["'paypal:'", 'transaction_id']) }} as refund_id,
        'paypal' as refund_source,
        transaction_id as external_refund_id,
        external_order_id,
        initiated_at as refunded_at,
        transaction_status as refund_status,
        transaction_subject as reason,
        currency_code,
        -- PayPal books a refund as a negative gross amount.
        -gross_amount as amount,
        cast(null as decimal(18, 4)) as line_items_amount,
        cast(null as decimal(18, 4)) as line_items_tax_amount,
        cast(null as decimal(18, 4)) as shipping_amount,
        cast(null as decimal(18, 4)) as shipping_tax_amount,
        cast(null as decimal(18, 4)) as duties_amount,
        cast(null as decimal(18, 4)) as order_adjustments_amount,
        cast(null as boolean) as is_restocked,
        cast(null as boolean) as has_return,
        loaded_at
    from {{ ref('stg_paypal__transactions') }}
    where event_code = 'T1107'

),

processors as (

    select * from stripe
    union all
    select * from paypal

),

refunds as (

    select * from shopify
    union all
    select * from processors
    where not exists (
        select 1 from shopify where shopify.external_order_id = processors.external_order_id
    )

),

unversioned as (

    select
        refunds.refund_id,
        orders.order_id,
        orders.channel,
        orders.store_id,
        refunds.refund_source,
        refunds.external_refund_id,
        refunds.external_order_id,
        refunds.refunded_at,
        refunds.refund_status,
        refunds.reason,
        refunds.currency_code,
        refunds.amount,
        refunds.line_items_amount,
        refunds.line_items_tax_amount,
        refunds.shipping_amount,
        refunds.shipping_tax_amount,
        refunds.duties_amount,
        refunds.order_adjustments_amount,
        refunds.is_restocked,
        refunds.has_return,
        orders.ordered_at,
        refunds.loaded_at

    from refunds
    left join orders on refunds.external_order_id = orders.external_order_id

),

final as (

    {{ with_change_time('unversioned', 'refund_id') }}

)

select * from final
