with

items as (

    select * from {{ ref('stg_wms__items') }}

),

order_lines as (

    select * from {{ ref('int_order_lines_unioned') }}

),

sold_skus as (

    select
        sku,
        max(product_title) as product_title,
        max(unit_weight_grams) as unit_weight_grams

    from order_lines
    where sku is not null
    group by sku

),

all_skus as (

    select sku from items
    union
    select sku from sold_skus

),

final as (

    select
        all_skus.sku,
        coalesce(items.product_name, sold_skus.product_title) as product_name,
        items.hs_code,
        items.origin_country_code,
        coalesce(items.unit_weight_grams, sold_skus.unit_weight_grams) as unit_weight_grams,
        items.unit_cost_amount,
        items.cost_currency_code,
        items.sku is not null as is_in_sku_master

    from all_skus
    left join items on all_skus.sku = items.sku
    left join sold_skus on all_skus.sku = sold_skus.sku

)

select * from final
