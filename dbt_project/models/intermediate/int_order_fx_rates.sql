{{ config(materialized='view') }}
-- The one place an order gets its reporting-currency rate: the ECB fixing in force on the
-- order's UTC date (the previous fixing on weekends and holidays) for the shop currency and
-- for the reporting currency (var `reporting_currency`). Marts convert with `convert_amount`
-- and these two rates; an order whose currency the ECB does not fix gets no rate (null
-- reporting amounts, flagged by a test) rather than a guessed one.
-- A view: its readers (fct_orders, fct_order_lines) are incremental and ask for the orders they
-- rebuild, a day's worth; a table rewrote a million rows every build for them (6 s at 1M).
with

orders as (

    select order_id, currency_code, {{ dbt.cast('ordered_at', 'date') }} as order_date
    from {{ ref('int_orders_unioned') }}

),

final as (

    select
        orders.order_id,
        orders.currency_code,
        '{{ var("reporting_currency") }}' as reporting_currency_code,
        shop_rate.rate_date as fx_rate_date,
        shop_rate.units_per_eur as currency_units_per_eur,
        reporting_rate.units_per_eur as reporting_units_per_eur

    from orders
    {{ fx_rate_on('shop_rate', 'orders.currency_code', 'orders.order_date') }}
    {{ fx_rate_on('reporting_rate', "'" ~ var('reporting_currency') ~ "'", 'orders.order_date') }}

)

select * from final
