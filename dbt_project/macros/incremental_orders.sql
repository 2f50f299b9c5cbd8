{#- Incremental facts keyed on orders.

    A fact row of an order depends on more than the order's own row: its lines, payments,
    refunds, parcels and the FX fixings of its date. `changed_order_ids(since)` is every order
    any of those touched after `since`; the facts delete and insert those orders whole, so a
    late refund, a new parcel or a re-matched payment rewrites the order's row.

    "Touched" is by load and content, not by the sources' timestamps: an intermediate row
    counts when a load wrote it after `since` (`loaded_at`, macro `source_or_empty`) with
    content that differs from the intermediate's previous build (`changed_at`, macro
    `with_change_time`), however old the order; a row re-loaded unchanged does not count. A fixing counts when its value for a day
    changed (`int_fx_rates_daily.changed_at`), so the week of fixings the ECB connector
    re-loads each run moves no order unless a rate did.

    `incremental_since()` is when the build that last wrote the model started (`max(built_at)`
    of the table, macro `built_at`): one writer runs loads and builds in turn, so every load
    that finished after that instant is one this build has not seen. A build that failed
    before writing the model leaves its mark where it was, and the next build reads those
    loads again. Both are plain SQL, so they run on any warehouse. -#}
{% macro incremental_since() -%}
    (select max(built_at) from {{ this }})
{%- endmacro %}

{% macro changed_order_ids(since) -%}
    select order_id from {{ ref('int_orders_unioned') }}
    where changed_at > {{ since }}
    union
    select order_id from {{ ref('int_order_lines_unioned') }}
    where changed_at > {{ since }}
    union
    select order_id from {{ ref('int_payments_matched') }}
    where order_id is not null and changed_at > {{ since }}
    union
    select order_id from {{ ref('int_refunds_unioned') }}
    where order_id is not null and changed_at > {{ since }}
    union
    select order_id from {{ ref('int_shipments') }}
    where order_id is not null and changed_at > {{ since }}
    union
    select order_id from {{ ref('int_orders_unioned') }}
    where {{ dbt.cast('ordered_at', 'date') }} in (
        select rate_day from {{ ref('int_fx_rates_daily') }} where changed_at > {{ since }}
    )
{%- endmacro %}
