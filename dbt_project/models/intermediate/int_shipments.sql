-- One row per parcel, matched to its order. The tracking aggregator (AfterShip) is the
-- source of parcels from every channel; a Shopify fulfillment's tracking number that the
-- aggregator does not know is added from Shopify, so no shipment is lost when tracking is not
-- loaded. A split order has several parcels: each counts as a shipment, and the order counts
-- as shipped at its first parcel and delivered at its last (see DECISIONLOG.md).
with

orders as (

    select * from {{ ref('int_orders_by_external_id') }}

),

countries as (

    select country_code, country_code_alpha3 from {{ ref('ref_countries') }}

),

status_map as (

    select * from {{ ref('tracking_status_map') }}

),

events as (

    select * from {{ ref('int_parcel_scans_aggregated') }}

),

aftership as (

    select
        {{ dbt.concat(["'aftership:'", 'trackings.tracking_id']) }} as shipment_id,
        'aftership' as shipment_source,
        trackings.tracking_number,
        trackings.carrier_slug,
        trackings.external_order_id,
        trackings.created_at as label_created_at,
        coalesce(events.shipped_at, trackings.created_at) as shipped_at,
        events.delivered_at,
        events.first_failed_attempt_at,
        coalesce(events.had_exception, 0) = 1 as had_exception,
        coalesce(by_subtag.shipment_status, by_tag.shipment_status) as shipment_status,
        origin.country_code as origin_country_code,
        destination.country_code as destination_country_code,
        trackings.promised_delivery_date,
        coalesce(events.event_count, 0) as tracking_event_count,
        trackings.updated_at,
        -- Scans load with their tracking (one transformer), so the tracking's load dates both.
        trackings.loaded_at
    from {{ ref('stg_tracking__trackings') }} as trackings
    left join events on trackings.tracking_id = events.tracking_id
    left join status_map as by_subtag
        on by_subtag.source_system = 'aftership'
        and trackings.tracking_tag = by_subtag.source_status
        and trackings.tracking_subtag = by_subtag.source_substatus
    left join status_map as by_tag
        on by_tag.source_system = 'aftership'
        and trackings.tracking_tag = by_tag.source_status
        and coalesce(by_tag.source_substatus, '') = ''
    left join countries as origin on trackings.origin_country_iso3 = origin.country_code_alpha3
    left join countries as destination on trackings.destination_country_iso3 = destination.country_code_alpha3

),

shopify as (

    select
        {{ dbt.concat(["'shopify:'", 'numbers.fulfillment_tracking_number_id']) }} as shipment_id,
        'shopify' as shipment_source,
        numbers.tracking_number,
        lower(replace(fulfillments.tracking_company, ' ', '-')) as carrier_slug,
        cast(fulfillments.external_order_id as {{ dbt.type_string() }}) as external_order_id,
        fulfillments.created_at as label_created_at,
        fulfillments.created_at as shipped_at,
        case when fulfillments.shipment_status = 'delivered' then fulfillments.updated_at end as delivered_at,
        case when fulfillments.shipment_status = 'attempted_delivery' then fulfillments.updated_at end
            as first_failed_attempt_at,
        fulfillments.shipment_status in ('failure', 'attempted_delivery', 'delayed') as had_exception,
        -- Shopify leaves shipment_status empty until the carrier reports anything.
        case
            when fulfillments.shipment_status is null then 'info_received'
            else status_map.shipment_status
        end as shipment_status,
        fulfillments.origin_country_code,
        cast(null as {{ dbt.type_string() }}) as destination_country_code,
        cast(null as date) as promised_delivery_date,
        0 as tracking_event_count,
        fulfillments.updated_at,
        greatest(numbers.loaded_at, fulfillments.loaded_at) as loaded_at
    from {{ ref('stg_shopify__fulfillment_tracking_numbers') }} as numbers
    inner join {{ ref('stg_shopify__fulfillments') }} as fulfillments
        on numbers.fulfillment_id = fulfillments.fulfillment_id
    left join status_map
        on status_map.source_system = 'shopify'
        and fulfillments.shipment_status = status_map.source_status
    where fulfillments.fulfillment_status = 'success'
        and not exists (
            select 1 from {{ ref('stg_tracking__trackings') }} as trackings
            where trackings.tracking_number = numbers.tracking_number
        )

),

parcels as (

    select * from aftership
    union all
    select * from shopify

),

matched as (

    select
        parcels.*,
        orders.order_id,
        orders.channel,
        orders.store_id,
        orders.destination_country_code as order_destination_country_code,
        orders.latest_delivery_at
    from parcels
    left join orders on parcels.external_order_id = orders.external_order_id

),

zones as (

    select * from {{ ref('carrier_service_zones') }}

),

unversioned as (

    select
        matched.shipment_id,
        matched.order_id,
        matched.channel,
        matched.store_id,
        matched.shipment_source,
        matched.tracking_number,
        matched.carrier_slug,
        matched.external_order_id,
        matched.label_created_at,
        matched.shipped_at,
        matched.delivered_at,
        matched.first_failed_attempt_at,
        matched.had_exception,
        coalesce(matched.shipment_status, 'info_received') as shipment_status,
        matched.shipment_status is null as is_status_unmapped,
        matched.origin_country_code,
        coalesce(matched.destination_country_code, matched.order_destination_country_code) as destination_country_code,
        -- The promise the customer was given: the tracking aggregator's copy of the channel's
        -- promise, else the channel's latest delivery date, else the carrier's published
        -- maximum transit for the lane (seed `carrier_service_zones`).
        coalesce(
            matched.promised_delivery_date,
            {{ dbt.cast('matched.latest_delivery_at', 'date') }},
            {{ dbt.dateadd('day', 'zones.transit_days_max', dbt.cast('matched.shipped_at', 'date')) }}
        ) as promised_delivery_date,
        matched.tracking_event_count,
        matched.updated_at,
        -- When the load that last wrote the parcel finished: incremental facts pick the orders
        -- whose parcels were loaded since their last build with it (macro `changed_order_ids`).
        matched.loaded_at,
        row_number() over (partition by matched.order_id order by matched.shipped_at, matched.shipment_id)
            as parcel_sequence,
        count(*) over (partition by matched.order_id) as order_parcel_count

    from matched
    left join zones
        on matched.carrier_slug = zones.carrier_slug
        and zones.zone = case
            when matched.origin_country_code = coalesce(matched.destination_country_code, matched.order_destination_country_code)
                then 'domestic'
            else 'international'
        end

),

final as (

    {{ with_change_time('unversioned', 'shipment_id') }}

)

select * from final
