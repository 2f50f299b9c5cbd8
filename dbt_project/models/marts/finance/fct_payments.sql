{{
    config(
        materialized='incremental',
        unique_key='payment_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}
-- Incremental by payment: payments loaded since the last build, and the payments of orders
-- fct_orders rewrote since then (a late order re-matches its payment and dates its FX), are
-- deleted and inserted again (macros `incremental_since`, `changed_order_ids`).
-- depends_on: {{ ref('fct_orders') }}
with

payments as (

    select * from {{ ref('int_payments_matched') }}
    {% if is_incremental() %}
    where changed_at > {{ incremental_since() }}
        or order_id in (
            select order_id from {{ ref('fct_orders') }} where built_at > {{ incremental_since() }}
        )
    {% endif %}

),

orders as (

    select order_id, {{ dbt.cast('ordered_at', 'date') }} as order_date
    from {{ ref('int_orders_unioned') }}

),

final as (

    select
        payments.payment_id,
        payments.order_id,
        payments.channel,
        payments.store_id,
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
        '{{ var("reporting_currency") }}' as reporting_currency_code,
        {{ convert_amount('payments.amount', 'paid_rate.units_per_eur', 'reporting_rate.units_per_eur') }}
            as reporting_amount,
        {{ convert_amount('payments.fee_amount', 'fee_rate.units_per_eur', 'reporting_rate.units_per_eur') }}
            as fee_reporting_amount,
        {{ built_at() }} as built_at

    from payments
    left join orders on payments.order_id = orders.order_id
    {{ fx_rate_on('paid_rate', 'payments.currency_code', "coalesce(orders.order_date, " ~ dbt.cast('payments.paid_at', 'date') ~ ")") }}
    {{ fx_rate_on('fee_rate', 'payments.settlement_currency_code', "coalesce(orders.order_date, " ~ dbt.cast('payments.paid_at', 'date') ~ ")") }}
    {{ fx_rate_on('reporting_rate', "'" ~ var('reporting_currency') ~ "'", "coalesce(orders.order_date, " ~ dbt.cast('payments.paid_at', 'date') ~ ")") }}

)

select * from final
