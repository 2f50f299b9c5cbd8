-- One row per order from every channel and source, keyed `<channel>:<store>:<external id>`
-- with the unified store id, so an Amazon order read from the SP-API and from a dropped
-- export is the same order. When both sources have it, the API's version wins (it is live;
-- an export is a snapshot). Statuses are mapped to Shopify's vocabulary, which the routing
-- action and the dashboards already speak.
with

stores as (

    select * from {{ ref('int_stores_mapped') }}

),

shopify as (

    select
        orders.*,
        stores.store_id as unified_store_id
    from {{ ref('stg_shopify__orders') }} as orders
    left join stores
        on stores.source_system = 'shopify_api' and orders.store_id = stores.source_store_id

),

amazon_orders as (

    select
        orders.*,
        stores.store_id,
        stores.default_currency_code
    from {{ ref('stg_amazon__orders') }} as orders
    left join stores
        on stores.source_system = 'amazon_sp_api'
        and orders.seller_account_id = stores.source_store_id
        and orders.marketplace_id = stores.marketplace_id

),

amazon_items as (

    select
        external_order_id,
        max(currency_code) as currency_code,
        sum(coalesce(gross_amount, 0)) as line_items_amount,
        sum(coalesce(discount_amount, 0)) as discount_amount,
        sum(coalesce(shipping_amount, 0) - coalesce(shipping_discount_amount, 0)) as shipping_amount,
        sum(
            coalesce(tax_amount, 0) + coalesce(shipping_tax_amount, 0)
            - coalesce(discount_tax_amount, 0) - coalesce(shipping_discount_tax_amount, 0)
        ) as tax_amount,
        sum(
            coalesce(gross_amount, 0) - coalesce(discount_amount, 0)
            + coalesce(shipping_amount, 0) - coalesce(shipping_discount_amount, 0)
            + coalesce(tax_amount, 0) + coalesce(shipping_tax_amount, 0)
            - coalesce(discount_tax_amount, 0) - coalesce(shipping_discount_tax_amount, 0)
        ) as total_amount,
        max(loaded_at) as loaded_at
    from {{ ref('stg_amazon__order_items') }}
    group by external_order_id

),

files as (

    select
        orders.*,
        stores.store_id,
        stores.default_currency_code
    from {{ ref('stg_files__orders') }} as orders
    left join stores
        on stores.source_system = 'file_import'
        and orders.channel = stores.channel
        and orders.source_store_id = stores.source_store_id

),

shopify_orders as (

    select
        {{ entity_key("'shopify'", 'unified_store_id', 'external_order_id') }} as order_id,
        'shopify' as channel,
        unified_store_id as store_id,
        'shopify_api' as source_system,
        cast(external_order_id as {{ dbt.type_string() }}) as external_order_id,
        order_name,
        cast(customer_id as {{ dbt.type_string() }}) as external_customer_id,
        customer_email,
        cast(null as {{ dbt.type_string() }}) as customer_email_sha256,
        ordered_at,
        updated_at,
        cancelled_at,
        cancelled_at is not null as is_cancelled,
        financial_status,
        coalesce(fulfillment_status, 'unfulfilled') as fulfillment_status,
        cast(null as {{ dbt.type_string() }}) as fulfillment_channel,
        destination_country_code,
        destination_province_code as destination_province,
        destination_city,
        destination_postal_code,
        destination_latitude,
        destination_longitude,
        currency_code,
        line_items_amount,
        discount_amount,
        subtotal_amount,
        shipping_amount,
        tax_amount,
        total_amount,
        is_tax_included,
        presentment_currency_code,
        presentment_total_amount,
        cast(null as {{ type_timestamp_tz() }}) as latest_ship_at,
        cast(null as {{ type_timestamp_tz() }}) as latest_delivery_at,
        loaded_at
    from shopify

),

amazon as (

    select
        {{ entity_key("'amazon'", 'amazon_orders.store_id', 'amazon_orders.external_order_id') }} as order_id,
        'amazon' as channel,
        amazon_orders.store_id,
        'amazon_sp_api' as source_system,
        amazon_orders.external_order_id,
        amazon_orders.seller_order_id as order_name,
        cast(null as {{ dbt.type_string() }}) as external_customer_id,
        cast(null as {{ dbt.type_string() }}) as customer_email,
        amazon_orders.customer_email_sha256,
        amazon_orders.ordered_at,
        amazon_orders.updated_at,
        case when amazon_orders.order_status = 'Canceled' then amazon_orders.updated_at end as cancelled_at,
        amazon_orders.order_status = 'Canceled' as is_cancelled,
        case
            when amazon_orders.order_status = 'Canceled' then 'voided'
            when amazon_orders.order_status in ('Pending', 'PendingAvailability') then 'pending'
            else 'paid'
        end as financial_status,
        case amazon_orders.order_status
            when 'Shipped' then 'fulfilled'
            when 'PartiallyShipped' then 'partial'
            else 'unfulfilled'
        end as fulfillment_status,
        amazon_orders.fulfillment_channel,
        amazon_orders.destination_country_code,
        amazon_orders.destination_province,
        amazon_orders.destination_city,
        amazon_orders.destination_postal_code,
        cast(null as double) as destination_latitude,
        cast(null as double) as destination_longitude,
        coalesce(amazon_orders.currency_code, amazon_items.currency_code, amazon_orders.default_currency_code)
            as currency_code,
        cast(coalesce(amazon_items.line_items_amount, 0) as decimal(18, 4)) as line_items_amount,
        cast(coalesce(amazon_items.discount_amount, 0) as decimal(18, 4)) as discount_amount,
        cast(coalesce(amazon_items.line_items_amount, 0) - coalesce(amazon_items.discount_amount, 0) as decimal(18, 4))
            as subtotal_amount,
        cast(coalesce(amazon_items.shipping_amount, 0) as decimal(18, 4)) as shipping_amount,
        cast(coalesce(amazon_items.tax_amount, 0) as decimal(18, 4)) as tax_amount,
        -- A canceled order carries no OrderTotal: what its items still say, usually zero.
        cast(coalesce(amazon_orders.total_amount, amazon_items.total_amount, 0) as decimal(18, 4)) as total_amount,
        false as is_tax_included,
        coalesce(amazon_orders.currency_code, amazon_items.currency_code, amazon_orders.default_currency_code)
            as presentment_currency_code,
        cast(coalesce(amazon_orders.total_amount, amazon_items.total_amount, 0) as decimal(18, 4))
            as presentment_total_amount,
        amazon_orders.latest_ship_at,
        amazon_orders.latest_delivery_at,
        -- The order row and its items load separately (items from the All Orders report).
        greatest(amazon_orders.loaded_at, amazon_items.loaded_at) as loaded_at
    from amazon_orders
    left join amazon_items on amazon_orders.external_order_id = amazon_items.external_order_id

),

file_orders as (

    select
        {{ entity_key('channel', 'store_id', 'external_order_id') }} as order_id,
        channel,
        store_id,
        'file_import' as source_system,
        external_order_id,
        order_name,
        external_customer_id,
        cast(null as {{ dbt.type_string() }}) as customer_email,
        customer_email_sha256,
        ordered_at,
        updated_at,
        cancelled_at,
        coalesce(is_cancelled, cancelled_at is not null) as is_cancelled,
        financial_status,
        coalesce(fulfillment_status, 'unfulfilled') as fulfillment_status,
        cast(null as {{ dbt.type_string() }}) as fulfillment_channel,
        destination_country_code,
        destination_province,
        destination_city,
        destination_postal_code,
        cast(null as double) as destination_latitude,
        cast(null as double) as destination_longitude,
        -- An export row of a canceled order may have no prices and so no currency.
        coalesce(currency_code, default_currency_code) as currency_code,
        line_items_amount,
        discount_amount,
        subtotal_amount,
        -- Other charges (gift wrap, COD fees) travel with shipping so the total still balances.
        coalesce(shipping_amount, 0) + coalesce(other_charges_amount, 0) as shipping_amount,
        tax_amount,
        total_amount,
        is_tax_included,
        coalesce(currency_code, default_currency_code) as presentment_currency_code,
        total_amount as presentment_total_amount,
        cast(null as {{ type_timestamp_tz() }}) as latest_ship_at,
        cast(null as {{ type_timestamp_tz() }}) as latest_delivery_at,
        loaded_at
    from files

),

api_orders as (

    select * from shopify_orders
    union all
    select * from amazon

),

unversioned as (

    select * from api_orders
    union all
    select file_orders.*
    from file_orders
    where not exists (select 1 from api_orders where api_orders.order_id = file_orders.order_id)

),

final as (

    {{ with_change_time('unversioned', 'order_id') }}

)

select * from final
