-- One row per sales channel store (Shopify shop, Amazon marketplace), from the store mapping
-- plus any store an order arrived from that the mapping does not know yet.
with

stores as (

    select * from {{ ref('int_stores_mapped') }}

),

seeded as (

    select channel, store_id, store_name, default_currency_code from {{ ref('stores') }}

),

all_stores as (

    select channel, store_id, max(store_name) as store_name, max(default_currency_code) as default_currency_code
    from seeded
    group by channel, store_id
    union
    select channel, store_id, max(store_name), max(default_currency_code)
    from stores
    where not is_mapped
    group by channel, store_id

),

final as (

    select
        {{ dbt.concat(['channel', "':'", 'store_id']) }} as channel_store_id,
        channel,
        store_id,
        coalesce(store_name, store_id) as store_name,
        default_currency_code,
        store_name is not null as is_configured

    from all_stores

)

select * from final
