{{
    config(
        materialized='incremental',
        unique_key='refund_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}
-- Incremental by refund: refunds loaded since the last build, and the refunds of orders
-- fct_orders rewrote since then (a refund matched to an order loaded later), are deleted and
-- inserted again (macros `incremental_since`, `changed_order_ids`).
-- depends_on: {{ ref('fct_orders') }}
with

refunds as (

    select * from {{ ref('int_refunds_unioned') }}
    {% if is_incremental() %}
    where changed_at > {{ incremental_since() }}
        or order_id in (
            select order_id from {{ ref('fct_orders') }} where built_at > {{ incremental_since() }}
        )
    {% endif %}

),

final as (

    select
        refunds.refund_id,
        refunds.order_id,
        refunds.channel,
        refunds.store_id,
        refunds.refund_source,
        refunds.external_refund_id,
        refunds.external_order_id,
        refunds.refunded_at,
        {{ local_date('refunds.refunded_at') }} as refund_local_date,
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
        {{ dbt.datediff('refunds.ordered_at', 'refunds.refunded_at', 'day') }} as days_from_order_to_refund,
        '{{ var("reporting_currency") }}' as reporting_currency_code,
        {{ convert_amount('refunds.amount', 'refund_rate.units_per_eur', 'reporting_rate.units_per_eur') }}
            as reporting_amount,
        {{ built_at() }} as built_at

    from refunds
    {{ fx_rate_on('refund_rate', 'refunds.currency_code', dbt.cast('refunds.ordered_at', 'date')) }}
    {{ fx_rate_on('reporting_rate', "'" ~ var('reporting_currency') ~ "'", dbt.cast('refunds.ordered_at', 'date')) }}

)

select * from final
