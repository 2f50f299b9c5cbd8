-- Every store any source mentions, mapped to its unified store id (seed `stores`). A store
-- missing from the seed keeps the id its source used and is flagged, so its orders still
-- arrive (never dropped) and the singular test `assert_every_store_is_mapped` names it.
with

stores as (

    select * from {{ ref('stores') }}

),

seen as (

    select distinct 'shopify_api' as source_system, 'shopify' as channel, store_id as source_store_id,
        cast(null as {{ dbt.type_string() }}) as marketplace_id
    from {{ ref('stg_shopify__orders') }}
    union
    select distinct 'amazon_sp_api', 'amazon', seller_account_id, marketplace_id
    from {{ ref('stg_amazon__orders') }}
    union
    select distinct 'file_import', channel, source_store_id, cast(null as {{ dbt.type_string() }})
    from {{ ref('stg_files__orders') }}

),

final as (

    select
        seen.source_system,
        seen.source_store_id,
        seen.marketplace_id,
        seen.channel,
        coalesce(stores.store_id, seen.source_store_id) as store_id,
        stores.store_name,
        stores.default_currency_code,
        stores.store_id is not null as is_mapped

    from seen
    left join stores
        on seen.source_system = stores.source_system
        and seen.source_store_id = stores.source_store_id
        and coalesce(seen.marketplace_id, '') = coalesce(stores.marketplace_id, '')

)

select * from final
