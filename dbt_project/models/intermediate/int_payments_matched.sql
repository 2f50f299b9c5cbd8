-- Every captured payment, matched to its order. Processor records come first, because only
-- they carry fees and the settlement currency: Stripe charges (Shopify Payments runs on
-- Stripe) and PayPal payments (event group T00xx, which excludes T0400 withdrawals). A
-- Shopify capture or sale is added only when no processor record of its gateway exists for
-- the order (manual gateways, or a processor not loaded), so nothing is counted twice.
-- Processors know the channel's order id only (charge metadata, PayPal custom field); it is
-- matched to the one order with that external id, and left unmatched if none or several.
with

orders as (

    select * from {{ ref('int_orders_by_external_id') }}

),

stripe_balance as (

    select * from {{ ref('stg_stripe__balance_transactions') }}

),

stripe as (

    select
        {{ dbt.concat(["'stripe:'", 'charges.charge_id']) }} as payment_id,
        'stripe' as payment_provider,
        'shopify_payments' as gateway,
        charges.charge_id as external_payment_id,
        charges.external_order_id,
        charges.created_at as paid_at,
        charges.charge_status as payment_status,
        charges.is_captured and charges.is_paid as is_captured,
        charges.currency_code,
        charges.captured_amount as amount,
        charges.refunded_amount,
        stripe_balance.currency_code as settlement_currency_code,
        stripe_balance.amount as settlement_amount,
        stripe_balance.fee_amount as fee_amount,
        stripe_balance.net_amount as settlement_net_amount,
        charges.payment_method_type,
        charges.card_brand,
        charges.card_country_code,
        -- A fee settles after the charge: whichever of the two loaded last.
        greatest(charges.loaded_at, stripe_balance.loaded_at) as loaded_at
    from {{ ref('stg_stripe__charges') }} as charges
    left join stripe_balance on charges.balance_transaction_id = stripe_balance.balance_transaction_id

),

paypal as (

    select
        {{ dbt.concat(["'paypal:'", 'transaction_id']) }} as payment_id,
        'paypal' as payment_provider,
        'paypal' as gateway,
        transaction_id as external_payment_id,
        external_order_id,
        initiated_at as paid_at,
        transaction_status as payment_status,
        transaction_status in ('success', 'partially_refunded', 'reversed') as is_captured,
        currency_code,
        gross_amount as amount,
        cast(null as decimal(18, 4)) as refunded_amount,
        fee_currency_code as settlement_currency_code,
        gross_amount as settlement_amount,
        -- PayPal reports fees as negative amounts; a fee here is a positive cost.
        -fee_amount as fee_amount,
        net_amount as settlement_net_amount,
        'paypal' as payment_method_type,
        cast(null as {{ dbt.type_string() }}) as card_brand,
        payer_country_code as card_country_code,
        loaded_at
    from {{ ref('stg_paypal__transactions') }}
    where event_code like 'T00%'

),

processors as (

    select * from stripe
    union all
    select * from paypal

),

shopify as (

    select
        {{ dbt.concat(["'shopify:'", 'transaction_id']) }} as payment_id,
        'shopify' as payment_provider,
        gateway,
        cast(external_transaction_id as {{ dbt.type_string() }}) as external_payment_id,
        cast(external_order_id as {{ dbt.type_string() }}) as external_order_id,
        coalesce(processed_at, created_at) as paid_at,
        transaction_status as payment_status,
        transaction_status = 'success' as is_captured,
        currency_code,
        amount,
        cast(null as decimal(18, 4)) as refunded_amount,
        cast(null as {{ dbt.type_string() }}) as settlement_currency_code,
        cast(null as decimal(18, 4)) as settlement_amount,
        cast(null as decimal(18, 4)) as fee_amount,
        cast(null as decimal(18, 4)) as settlement_net_amount,
        payment_method_name as payment_method_type,
        credit_card_company as card_brand,
        cast(null as {{ dbt.type_string() }}) as card_country_code,
        loaded_at
    from {{ ref('stg_shopify__transactions') }} as transactions
    where transaction_kind in ('capture', 'sale')
        and not exists (
            select 1 from processors
            where processors.external_order_id = cast(transactions.external_order_id as {{ dbt.type_string() }})
                and processors.gateway = transactions.gateway
        )

),

payments as (

    select * from processors
    union all
    select * from shopify

),

unversioned as (

    select
        payments.payment_id,
        orders.order_id,
        orders.channel,
        orders.store_id,
        payments.payment_provider,
        payments.gateway,
        payments.external_payment_id,
        payments.external_order_id,
        payments.paid_at,
        payments.payment_status,
        payments.is_captured,
        payments.currency_code,
        payments.amount,
        payments.refunded_amount,
        payments.settlement_currency_code,
        payments.settlement_amount,
        payments.fee_amount,
        payments.settlement_net_amount,
        payments.payment_method_type,
        payments.card_brand,
        payments.card_country_code,
        payments.loaded_at

    from payments
    left join orders on payments.external_order_id = orders.external_order_id

),

final as (

    {{ with_change_time('unversioned', 'payment_id') }}

)

select * from final
