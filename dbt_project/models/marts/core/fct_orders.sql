{{
    config(
        materialized='incremental',
        unique_key='order_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}
-- Incremental by order: every order that itself, a line, a payment, a refund or a parcel
-- loaded since the last build touched, or whose FX fixing changed, is deleted and inserted
-- again whole (macro `changed_order_ids`); other orders are not read.
-- depends_on: {{ ref('int_fx_rates_daily') }}
{%- set changed_only = 'and order_id in (select order_id from changed)' if is_incremental() else '' %}
with

{% if is_incremental() %}
changed as (

    {{ changed_order_ids(incremental_since()) }}

),
{% endif %}

orders as (

    select * from {{ ref('int_orders_unioned') }}
    {% if is_incremental() %}
    where order_id in (select order_id from changed)
    {% endif %}

),

order_lines as (

    select * from {{ ref('int_order_lines_unioned') }}
    where order_id is not null {{ changed_only }}

),

fx as (

    select * from {{ ref('int_order_fx_rates') }}
    where order_id is not null {{ changed_only }}

),

payments as (

    select
        order_id,
        sum(amount) as paid_amount,
        sum(fee_amount) as payment_fee_amount,
        max(settlement_currency_code) as settlement_currency_code
    from {{ ref('int_payments_matched') }}
    where is_captured and order_id is not null {{ changed_only }}
    group by order_id

),

refunds as (

    select
        order_id,
        sum(amount) as refunded_amount,
        min(refunded_at) as first_refunded_at
    from {{ ref('int_refunds_unioned') }}
    where order_id is not null {{ changed_only }} and refund_status in ('succeeded', 'success', 'pending')
    group by order_id

),

shipments as (

    select
        order_id,
        min(shipped_at) as first_shipped_at,
        max(delivered_at) as last_delivered_at,
        count(*) as parcel_count,
        sum(case when delivered_at is not null then 1 else 0 end) as delivered_parcel_count
    from {{ ref('int_shipments') }}
    where order_id is not null {{ changed_only }}
    group by order_id

),

line_totals as (

    select
        order_id,
        count(*) as line_count,
        sum(quantity) as item_quantity
    from order_lines
    group by order_id

),

final as (

    select
        orders.order_id,
        orders.channel,
        orders.store_id,
        orders.source_system,
        orders.external_order_id,
        orders.order_name,
        {{ customer_key('orders') }} as customer_id,
        orders.ordered_at,
        orders.updated_at,
        orders.cancelled_at,
        {{ dbt.cast("orders.ordered_at", "date") }} as order_date,
        {{ local_date('orders.ordered_at') }} as order_local_date,
        orders.financial_status,
        orders.fulfillment_status,
        orders.fulfillment_channel,
        orders.is_cancelled,
        (
            not orders.is_cancelled
            -- A dropped export is a snapshot: routing acts on live API orders only.
            and orders.source_system <> 'file_import'
            -- Amazon ships its own FBA (AFN) orders; only merchant-fulfilled ones are ours.
            and coalesce(orders.fulfillment_channel, 'MFN') = 'MFN'
            and orders.financial_status in ('paid', 'partially_paid', 'authorized', 'partially_refunded')
            and orders.fulfillment_status in ('unfulfilled', 'partial')
        ) as is_awaiting_shipment,
        orders.destination_country_code,
        orders.destination_province,
        orders.destination_city,
        orders.destination_postal_code,
        orders.destination_latitude,
        orders.destination_longitude,
        orders.currency_code,
        orders.line_items_amount,
        orders.discount_amount,
        orders.subtotal_amount,
        orders.shipping_amount,
        orders.tax_amount,
        orders.total_amount,
        orders.is_tax_included,
        orders.presentment_currency_code,
        orders.presentment_total_amount,
        cast(coalesce(payments.paid_amount, 0) as decimal(18, 4)) as paid_presentment_amount,
        cast(coalesce(refunds.refunded_amount, 0) as decimal(18, 4)) as refunded_presentment_amount,
        payments.settlement_currency_code,
        cast(payments.payment_fee_amount as decimal(18, 4)) as payment_fee_amount,
        fx.reporting_currency_code,
        fx.fx_rate_date,
        fx.currency_units_per_eur,
        fx.reporting_units_per_eur,
        {{ convert_amount('orders.total_amount', 'fx.currency_units_per_eur', 'fx.reporting_units_per_eur') }}
            as total_reporting_amount,
        orders.latest_ship_at,
        orders.latest_delivery_at,
        shipments.first_shipped_at,
        shipments.last_delivered_at,
        refunds.first_refunded_at,
        cast(coalesce(shipments.parcel_count, 0) as integer) as parcel_count,
        cast(coalesce(shipments.delivered_parcel_count, 0) as integer) as delivered_parcel_count,
        cast(coalesce(line_totals.line_count, 0) as integer) as line_count,
        cast(coalesce(line_totals.item_quantity, 0) as integer) as item_quantity,
        {{ built_at() }} as built_at

    from orders
    left join line_totals on orders.order_id = line_totals.order_id
    left join fx on orders.order_id = fx.order_id
    left join payments on orders.order_id = payments.order_id
    left join refunds on orders.order_id = refunds.order_id
    left join shipments on orders.order_id = shipments.order_id

)

select * from final
