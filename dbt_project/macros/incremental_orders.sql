{#- Incremental facts keyed on orders.

    A fact row of an order depends on more than the order's own row: its lines, payments,
    refunds, parcels and the FX fixing of its date. `changed_order_ids(since)` is every order
    any of those touched at or after `since`; the facts delete and insert those orders whole,
    so a late refund, a new parcel or a re-matched payment rewrites the order's row.

    `incremental_since(column)` is the fact's high-water mark (`max(column)` of the table
    already built) minus var `incremental_lookback_days`: sources deliver late (a PayPal
    report hours later, a scan the aggregator backfills, today's ECB fixing after the
    orders that carried yesterday's forward), and the lookback re-reads that window. Both are
    plain SQL with dbt's cross-database `dateadd`, so they run on any warehouse. -#}
{% macro incremental_since(column) -%}
    {{ dbt.dateadd('day', -1 * var('incremental_lookback_days'), '(select max(' ~ column ~ ') from ' ~ this ~ ')') }}
{%- endmacro %}

{% macro changed_order_ids(since) -%}
    select order_id from {{ ref('int_orders_unioned') }}
    where updated_at >= {{ since }}
    union
    select order_id from {{ ref('int_payments_matched') }}
    where order_id is not null and paid_at >= {{ since }}
    union
    select order_id from {{ ref('int_refunds_unioned') }}
    where order_id is not null and refunded_at >= {{ since }}
    union
    select order_id from {{ ref('int_shipments') }}
    where order_id is not null and updated_at >= {{ since }}
{%- endmacro %}
